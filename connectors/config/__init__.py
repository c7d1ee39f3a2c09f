"""Config definitions with Kafka's types, validators and validate answer.

:class:`ConfigDef` defines a connector's (or converter's, or transform's) configs; ``parse``
turns the string properties into typed values and ``validate`` answers in the shape of Kafka
Connect's ``PUT /connector-plugins/{plugin}/config/validate``.
"""

from ._configdef import ConfigDef, ConfigKey, ConfigValue
from ._connector_configs import (
    common_connector_config,
    sink_connector_config,
    source_connector_config,
    validate_sink_topics,
)
from ._infos import (
    ConfigInfo,
    ConfigInfos,
    ConfigKeyInfo,
    ConfigValueInfo,
    config_infos,
    config_key_info,
    config_value_info,
)
from ._types import (
    NO_DEFAULT,
    ConfigError,
    ConfigParseError,
    ConfigType,
    Importance,
    Password,
    Width,
    convert_to_string,
    parse_type,
)
from ._validators import (
    CaseInsensitiveValidString,
    CompositeValidator,
    LambdaValidator,
    NonEmptyString,
    Range,
    Recommender,
    Validator,
    ValidList,
    ValidString,
)

__all__ = [
    "NO_DEFAULT",
    "CaseInsensitiveValidString",
    "CompositeValidator",
    "ConfigDef",
    "ConfigError",
    "ConfigInfo",
    "ConfigInfos",
    "ConfigKey",
    "ConfigKeyInfo",
    "ConfigParseError",
    "ConfigType",
    "ConfigValue",
    "ConfigValueInfo",
    "Importance",
    "LambdaValidator",
    "NonEmptyString",
    "Password",
    "Range",
    "Recommender",
    "ValidList",
    "ValidString",
    "Validator",
    "Width",
    "common_connector_config",
    "config_infos",
    "config_key_info",
    "config_value_info",
    "convert_to_string",
    "parse_type",
    "sink_connector_config",
    "source_connector_config",
    "validate_sink_topics",
]
