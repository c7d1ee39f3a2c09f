"""ConfigDef: Kafka's parsing rules, validators, and the validate answer's shape."""

import json

import pytest

from tidal.connectors.config import (
    NO_DEFAULT,
    CaseInsensitiveValidString,
    ConfigDef,
    ConfigError,
    ConfigType,
    ConfigValue,
    Importance,
    NonEmptyString,
    Password,
    Range,
    ValidList,
    ValidString,
    Width,
    parse_type,
)


@pytest.mark.parametrize(
    ("raw", "type_", "parsed"),
    [
        (" text ", ConfigType.STRING, "text"),
        ("TRUE", ConfigType.BOOLEAN, True),
        (" false", ConfigType.BOOLEAN, False),
        ("42", ConfigType.INT, 42),
        ("-7", ConfigType.SHORT, -7),
        ("9223372036854775807", ConfigType.LONG, 2**63 - 1),
        ("0.25", ConfigType.DOUBLE, 0.25),
        ("a, b ,c", ConfigType.LIST, ["a", "b", "c"]),
        ("a,,b", ConfigType.LIST, ["a", "", "b"]),
        ("", ConfigType.LIST, []),
        ("com.example.Thing", ConfigType.CLASS, "com.example.Thing"),
    ],
)
def test_parse_type_follows_kafka(raw: str, type_: ConfigType, parsed: object) -> None:
    assert parse_type("x", raw, type_) == parsed


@pytest.mark.parametrize(
    ("raw", "type_", "message"),
    [
        (
            "yes",
            ConfigType.BOOLEAN,
            "Invalid value yes for configuration x: Expected value to be either true or false",
        ),
        ("1.5", ConfigType.INT, "Invalid value 1.5 for configuration x: Not a number of type INT"),
        ("40000", ConfigType.SHORT, "Not a number of type SHORT"),
        ("abc", ConfigType.DOUBLE, "Not a number of type DOUBLE"),
    ],
)
def test_parse_type_errors_read_like_kafka(raw: str, type_: ConfigType, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_type("x", raw, type_)


def test_password_is_hidden_everywhere() -> None:
    secret = parse_type("p", " s3cret ", ConfigType.PASSWORD)
    assert isinstance(secret, Password)
    assert secret.value == "s3cret"
    assert str(secret) == repr(secret) == "[hidden]"
    assert "s3cret" not in repr({"p": secret})


def test_validators_and_their_messages() -> None:
    with pytest.raises(ConfigError, match="Value must be at least 1"):
        Range.at_least(1).ensure_valid("tasks.max", 0)
    with pytest.raises(ConfigError, match="Value must be no more than 10"):
        Range.between(1, 10).ensure_valid("n", 11)
    with pytest.raises(ConfigError, match="String must be one of: none, all"):
        ValidString.in_("none", "all").ensure_valid("errors.tolerance", "some")
    CaseInsensitiveValidString.in_("POLL").ensure_valid("b", "poll")
    with pytest.raises(ConfigError, match=r"one of \(case insensitive\): POLL"):
        CaseInsensitiveValidString.in_("POLL").ensure_valid("b", "never")
    ValidList.in_("a", "b").ensure_valid("l", ["a", "b", "a"])
    with pytest.raises(ConfigError, match="String must be one of: a, b"):
        ValidList.in_("a", "b").ensure_valid("l", ["a", "c"])
    with pytest.raises(ConfigError, match="Empty list is not allowed"):
        ValidList.in_("a", allow_empty=False).ensure_valid("l", [])
    with pytest.raises(ConfigError, match="String must be non-empty"):
        NonEmptyString().ensure_valid("s", "")
    assert str(Range.at_least(1)) == "[1,...]"
    assert str(ValidString.in_("none", "restart")) == "[none, restart]"


def _def() -> ConfigDef:
    return (
        ConfigDef()
        .define(
            "file",
            ConfigType.STRING,
            NO_DEFAULT,
            None,
            Importance.HIGH,
            "The file.",
            group="Main",
            order=1,
        )
        .define(
            "batch.size",
            ConfigType.INT,
            2000,
            Range.at_least(1),
            Importance.LOW,
            "Records per poll.",
            group="Main",
            order=2,
            width=Width.SHORT,
            display_name="Batch size",
        )
        .define(
            "secret", ConfigType.PASSWORD, None, None, Importance.LOW, "A secret.", group="Auth"
        )
        .define("topics", ConfigType.LIST, "", None, Importance.HIGH, "Topics.")
    )


def test_parse_applies_defaults_and_raises_on_missing_required() -> None:
    config = _def()
    assert config.parse({"file": "in.txt", "topics": "a,b", "unknown": "ignored"}) == {
        "file": "in.txt",
        "batch.size": 2000,
        "secret": None,
        "topics": ["a", "b"],
    }
    with pytest.raises(
        ConfigError, match='Missing required configuration "file" which has no default value'
    ):
        config.parse({})
    with pytest.raises(ConfigError, match="Value must be at least 1"):
        config.parse({"file": "f", "batch.size": "0"})


def test_define_rejects_duplicates_and_bad_defaults() -> None:
    with pytest.raises(ConfigError, match="defined twice"):
        _def().define("file", ConfigType.STRING)
    with pytest.raises(ConfigError, match="Value must be at least 1"):
        ConfigDef().define("n", ConfigType.INT, 0, Range.at_least(1))


def test_validate_answers_in_kafka_connects_shape() -> None:
    answer = _def().validate(
        {"batch.size": "0", "secret": "pw", "topics": "a, b"}, name="FileSource"
    )
    assert list(answer) == ["name", "error_count", "groups", "configs"]
    assert answer["name"] == "FileSource"
    assert answer["error_count"] == 2
    assert answer["groups"] == ["Main", "Auth"]
    by_name = {c["definition"]["name"]: c for c in answer["configs"] if c["definition"]}
    file_ = by_name["file"]
    assert file_["definition"] == {
        "name": "file",
        "type": "STRING",
        "required": True,
        "default_value": None,
        "importance": "HIGH",
        "documentation": "The file.",
        "group": "Main",
        "width": "NONE",
        "display_name": "file",
        "dependents": [],
        "order": 1,
    }
    assert file_["value"] == {
        "name": "file",
        "value": None,
        "recommended_values": [],
        "errors": ['Missing required configuration "file" which has no default value.'],
        "visible": True,
    }
    batch = by_name["batch.size"]
    assert batch["definition"]["default_value"] == "2000"
    assert batch["definition"]["width"] == "SHORT"
    assert batch["value"]["errors"] == [
        "Invalid value 0 for configuration batch.size: Value must be at least 1"
    ]
    assert by_name["secret"]["value"]["value"] == "[hidden]"
    assert by_name["topics"]["value"]["value"] == "a,b"
    json.dumps(answer)  # plain JSON types only


class _ModeRecommender:
    def valid_values(self, name: str, parsed: object) -> list[object]:
        return ["bulk", "incrementing"]

    def visible(self, name: str, parsed: dict[str, object]) -> bool:
        return parsed.get("enabled") is True


def test_recommender_sets_recommended_values_and_visibility() -> None:
    config = (
        ConfigDef()
        .define("enabled", ConfigType.BOOLEAN, False, dependents=["mode"])
        .define("mode", ConfigType.STRING, "bulk", recommender=_ModeRecommender())
    )
    values = {v.name: v for v in config.validate_values({"mode": "weird"})}
    assert values["mode"].recommended_values == ["bulk", "incrementing"]
    assert values["mode"].visible is False
    assert values["mode"].errors == ["Invalid value for configuration mode"]


def test_undefined_dependents_are_reported() -> None:
    config = ConfigDef().define("a", ConfigType.STRING, "", dependents=["ghost"])
    values = {v.name: v for v in config.validate_values({})}
    assert values["ghost"] == ConfigValue(
        "ghost", errors=["ghost is referred in the dependents, but not defined."], visible=False
    )
    answer = config.validate({})
    assert answer["configs"][0]["definition"] is None
    assert answer["error_count"] == 1
