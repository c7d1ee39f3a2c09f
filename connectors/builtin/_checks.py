"""Cross-field checks in the ``/config/validate`` answer, next to the per-field ones."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from tidal.connectors.config import ConfigDef, ConfigError, ConfigValue

__all__ = ["validate_with"]


def validate_with(
    config: ConfigDef, props: Mapping[str, str], check: Callable[[dict[str, Any]], object]
) -> list[ConfigValue]:
    """``config``'s own validation, plus ``check``'s ConfigError on the config it names.

    ``check`` runs only when every field parsed, on the parsed values, as the connector's
    ``start`` runs it; its error lands on the config it names (Kafka's validate answer shows
    errors per field), or on the first one when it names none.
    """
    values = config.validate_values(props)
    if any(value.errors for value in values):
        return values
    try:
        check(config.parse(props))
    except ConfigError as exc:
        target = next((v for v in values if v.name == exc.config_name), values[0])
        target.add_error(str(exc))
    return values
