"""Every registered message and version, encoded by kafka-python as well as by us.

kafka-python 3.x encodes with classes generated from Kafka's own message JSON
(``kafka.protocol.*``); its 2.x-era hand-written classes survive as
``kafka.protocol.old``. For each API in ``API_SPECS`` and ``SASL_SPECS``, each
version both sides know, values drawn from our declaration are encoded by
both encoders: the bytes must be identical, and our decoder must read
kafka-python's bytes back to the same message. This pins field order, types,
version ranges, nullability, tagged fields and flexible versions to an
encoder we did not write, including the versions Kafka 4 removed.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import warnings
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tidal.log.protocol import API_SPECS, Message, Struct
from tidal.log.protocol._schema import ArrayOf, FieldSpec, in_range
from tidal.log.protocol.messages import SASL_SPECS
from tidal.log.protocol.types import Primitive

with warnings.catch_warnings():
    # kafka-python 3.0 loads its schemas with the deprecated importlib.resources.read_text.
    warnings.simplefilter("ignore", DeprecationWarning)
    import kafka.protocol
    import kafka.protocol.old
    from kafka.protocol.old import types as old_types


def _kafka_python_classes() -> tuple[dict[str, Any], dict[tuple[str, int], Any]]:
    """kafka-python's JSON-driven classes by name, and its old ones by (name, version)."""
    current: dict[str, Any] = {}
    old: dict[tuple[str, int], Any] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        for info in pkgutil.walk_packages(kafka.protocol.__path__, "kafka.protocol."):
            if ".schemas" in info.name or info.name.endswith("generate_stubs"):
                continue
            module = importlib.import_module(info.name)
            for name, value in vars(module).items():
                if not isinstance(value, type):
                    continue
                versioned = re.fullmatch(r"(\w+)_v(\d+)", name)
                if info.name.startswith("kafka.protocol.old.") and versioned:
                    if hasattr(value, "SCHEMA"):
                        old[versioned.group(1), int(versioned.group(2))] = value
                elif getattr(value, "_json", None):
                    current[name] = value
    return current, old


CURRENT, OLD = _kafka_python_classes()
SPECS = {**API_SPECS, **SASL_SPECS}
MESSAGES = [cls for spec in SPECS.values() for cls in (spec.request, spec.response)]

# kafka-python renames the authorized operations of these.
RENAMED = {
    ("MetadataResponseTopic", "topic_authorized_operations"): "authorized_operations",
    ("MetadataResponse", "cluster_authorized_operations"): "authorized_operations",
    ("DescribeClusterResponse", "cluster_authorized_operations"): "authorized_operations",
}
# Old classes that group fields differently on the same wire layout.
OLD_SHAPES_DIFFER = {"MetadataRequest", "CreatePartitionsRequest"}

FIXED = {
    "b": st.integers(-(2**7), 2**7 - 1),
    "h": st.integers(-(2**15), 2**15 - 1),
    "i": st.integers(-(2**31), 2**31 - 1),
    "q": st.integers(-(2**63), 2**63 - 1),
    "H": st.integers(0, 2**16 - 1),
    "?": st.booleans(),
    "d": st.floats(allow_nan=False),
}


def _type_strategy(typ: Any, version: int) -> st.SearchStrategy[Any]:
    if isinstance(typ, ArrayOf):
        return st.lists(_type_strategy(typ.element, version), max_size=2)
    if isinstance(typ, type) and issubclass(typ, Struct):
        return _struct_strategy(typ, version)
    assert isinstance(typ, Primitive)
    if typ.family == "fixed":
        return FIXED[typ.fmt]  # type: ignore[attr-defined]
    if typ.family == "string":
        return st.text(max_size=6)
    if typ.family in ("bytes", "records"):
        return st.binary(max_size=8)
    assert typ.family == "uuid"
    return st.uuids()


def _field_strategy(spec: FieldSpec, version: int) -> st.SearchStrategy[Any]:
    if not in_range(version, spec.versions):
        return st.builds(spec.absent_value)
    value = _type_strategy(spec.type, version)
    if in_range(version, spec.nullable_versions):
        value = st.none() | value
    if spec.tag is not None:
        value = st.builds(spec.absent_value) | value  # tagged: often left out
    return value


def _struct_strategy(cls: type[Struct], version: int) -> st.SearchStrategy[Any]:
    return st.builds(cls, **{spec.name: _field_strategy(spec, version) for spec in cls.fields})


def _bits(value: int) -> set[int]:
    return {bit for bit in range(32) if (value & 0xFFFFFFFF) >> bit & 1}


def _to_current(obj: Struct, kp_cls: Any, version: int) -> Any:
    """Our message as an instance of kafka-python's JSON-driven class."""
    kwargs: dict[str, Any] = {}
    ours = type(obj).__name__
    for spec in type(obj).fields:
        if not in_range(version, spec.versions):
            continue
        value = getattr(obj, spec.name)
        # kafka-python writes a tagged field whenever it is given; Kafka only when not default.
        if in_range(version, spec.tagged_versions) and value == spec.absent_value():
            continue
        name = RENAMED.get((ours, spec.name), spec.name)
        field = kp_cls._struct.fields[name]
        if field.type_str == "bitfield":
            value = _bits(value)
        elif isinstance(spec.type, ArrayOf) and isinstance(spec.type.element, type):
            value = (
                None
                if value is None
                else [_to_current(x, field.data_class, version) for x in value]
            )
        elif isinstance(spec.type, type):
            value = _to_current(value, field.data_class, version)
        kwargs[name] = value
    present = {RENAMED.get((ours, s.name), s.name) for s in type(obj).fields}
    missing = [
        name
        for name, field in kp_cls._struct.fields.items()
        if name not in present and field.for_version_q(version)
    ]
    assert not missing, f"kafka-python has fields we do not declare: {missing}"
    return kp_cls(**kwargs)


def _to_old(obj: Struct, schema: Any, version: int) -> list[Any]:
    """Our message as the positional values of an old kafka-python schema."""
    present = [s for s in type(obj).fields if in_range(version, s.versions)]
    assert len(present) == len(schema.fields), (type(obj).__name__, schema.names)
    values = []
    for spec, typ in zip(present, schema.fields, strict=True):
        value = getattr(obj, spec.name)
        if typ is old_types.BitField:
            value = _bits(value)
        elif value is not None and isinstance(getattr(typ, "array_of", None), old_types.Schema):
            value = [_to_old(x, typ.array_of, version) for x in value]
        values.append(value)
    return values


def _current_cases() -> list[tuple[type[Message], int]]:
    cases = []
    for cls in MESSAGES:
        kp_cls = CURRENT[cls.__name__]
        low, high = cls.valid_versions
        cases += [(cls, v) for v in range(low, min(high, kp_cls.max_version) + 1)]
    return cases


def _old_cases() -> list[tuple[type[Message], int]]:
    return [
        (cls, version)
        for cls in MESSAGES
        if cls.__name__ not in OLD_SHAPES_DIFFER
        for version in range(cls.valid_versions[0], cls.valid_versions[1] + 1)
        if (cls.__name__, version) in OLD and not cls.is_flexible(version)
    ]


CURRENT_CASES = _current_cases()
OLD_CASES = _old_cases()


def _ids(case: tuple[type[Message], int]) -> str:
    return f"{case[0].__name__}-v{case[1]}"


def test_kafka_python_knows_every_message_and_flexible_version() -> None:
    for cls in MESSAGES:
        kp_cls = CURRENT[cls.__name__]
        assert cls.api_key == kp_cls.API_KEY
        for version in range(cls.valid_versions[0], cls.valid_versions[1] + 1):
            assert kp_cls.flexible_version_q(version) == cls.is_flexible(version), version


def test_every_declared_version_is_checked_against_kafka_python() -> None:
    declared = {
        (cls, version)
        for cls in MESSAGES
        for version in range(cls.valid_versions[0], cls.valid_versions[1] + 1)
    }
    assert declared == set(CURRENT_CASES)
    # The hand-written classes reach back to versions Kafka 4 removed.
    assert len(OLD_CASES) > 150


@pytest.mark.parametrize("case", CURRENT_CASES, ids=_ids)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_same_bytes_as_kafka_python(case: tuple[type[Message], int], data: st.DataObject) -> None:
    cls, version = case
    message = data.draw(_struct_strategy(cls, version))
    theirs = bytes(_to_current(message, CURRENT[cls.__name__], version).encode(version=version))
    assert message.encode(version) == theirs
    assert cls.decode(theirs, version) == message


@pytest.mark.parametrize("case", OLD_CASES, ids=_ids)
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_same_bytes_as_kafka_python_old_classes(
    case: tuple[type[Message], int], data: st.DataObject
) -> None:
    cls, version = case
    message = data.draw(_struct_strategy(cls, version))
    old_cls = OLD[cls.__name__, version]
    theirs = bytes(old_cls(*_to_old(message, old_cls.SCHEMA, version)).encode())
    assert message.encode(version) == theirs
