"""Transform chains built from Kafka-style connector properties.

::

    transforms=route,mask
    transforms.route.type=org.apache.kafka.connect.transforms.RegexRouter
    transforms.route.regex=(.*)-raw
    transforms.route.replacement=$1
    transforms.route.predicate=isRaw
    transforms.mask.type=MaskField$Value
    transforms.mask.fields=ssn
    predicates=isRaw
    predicates.isRaw.type=TopicNameMatches
    predicates.isRaw.pattern=.*-raw

``TransformationChain.from_props(props)`` resolves every ``type`` (Kafka class name, short
alias or Python path; see :mod:`tidal.connectors.plugins`), configures each transform and
predicate with its own properties, and applies them in order. A bad property is reported
as a :class:`~tidal.connectors.config.ConfigError` naming the full property, e.g.
``Invalid value null for configuration transforms.mask.fields: ...``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from tidal.connectors.api import ConnectRecord
from tidal.connectors.config import ConfigError, ConfigType, parse_type

from ._base import Predicate, Transformation

__all__ = ["TransformationChain", "TransformationStage"]

R = TypeVar("R", bound=ConnectRecord)

_RESERVED = ("type", "predicate", "negate")


@dataclass(slots=True)
class TransformationStage(Generic[R]):
    """One transform with its optional predicate (Kafka's ``TransformationStage``)."""

    alias: str
    transformation: Transformation[R]
    predicate: Predicate[R] | None = None
    negate: bool = False

    def apply(self, record: R) -> R | None:
        """Apply the transform when the predicate (if any) says so."""
        if self.predicate is not None and self.predicate.test(record) == self.negate:
            return record
        return self.transformation.apply(record)

    def close(self) -> None:
        """Close the transform and its predicate."""
        self.transformation.close()
        if self.predicate is not None:
            self.predicate.close()


def _sub_props(props: Mapping[str, str], prefix: str) -> dict[str, str]:
    return {k[len(prefix) :]: v for k, v in props.items() if k.startswith(prefix)}


def _aliases(props: Mapping[str, str], key: str) -> list[str]:
    aliases: list[str] = parse_type(key, props.get(key, ""), ConfigType.LIST)
    if len(set(aliases)) != len(aliases):
        raise ConfigError(key, aliases, "Duplicate alias provided.")
    return [a for a in aliases if a]


def _instantiate(
    kind: str, alias: str, props: Mapping[str, str], resolve: Callable[[str], type]
) -> Any:
    prefix = f"{kind}.{alias}."
    own = _sub_props(props, prefix)
    class_name = own.get("type", "").strip()
    if not class_name:
        raise ConfigError(
            f'Missing required configuration "{prefix}type" which has no default value.'
        )
    try:
        cls = resolve(class_name)
    except LookupError as exc:
        raise ConfigError(prefix + "type", class_name, str(exc)) from None
    instance = cls()
    try:
        instance.configure({k: v for k, v in own.items() if k not in _RESERVED})
    except ConfigError as exc:
        raise exc.with_prefix(prefix) from exc
    return instance


class TransformationChain(Generic[R]):
    """Transforms applied in order; a stage returning None ends the chain (record dropped)."""

    def __init__(self, stages: list[TransformationStage[R]]) -> None:
        self.stages = stages

    @classmethod
    def from_props(
        cls,
        props: Mapping[str, str],
        *,
        resolve_transform: Callable[[str], type] | None = None,
        resolve_predicate: Callable[[str], type] | None = None,
    ) -> TransformationChain[Any]:
        """Build the chain described by ``transforms``/``predicates`` properties."""
        if resolve_transform is None or resolve_predicate is None:
            from tidal.connectors.plugins import (  # noqa: PLC0415 (plugins imports transforms)
                predicate_class,
                transformation_class,
            )

            resolve_transform = resolve_transform or transformation_class
            resolve_predicate = resolve_predicate or predicate_class
        predicates = {
            alias: _instantiate("predicates", alias, props, resolve_predicate)
            for alias in _aliases(props, "predicates")
        }
        stages: list[TransformationStage[Any]] = []
        for alias in _aliases(props, "transforms"):
            transformation = _instantiate("transforms", alias, props, resolve_transform)
            prefix = f"transforms.{alias}."
            predicate_alias = props.get(prefix + "predicate", "").strip()
            negate: bool = parse_type(
                prefix + "negate", props.get(prefix + "negate", "false"), ConfigType.BOOLEAN
            )
            predicate = None
            if predicate_alias:
                if predicate_alias not in predicates:
                    raise ConfigError(
                        prefix + "predicate", predicate_alias,
                        f"The predicate '{predicate_alias}' is not defined in 'predicates'",
                    )  # fmt: skip
                predicate = predicates[predicate_alias]
            elif props.get(prefix + "negate") is not None:
                raise ConfigError(prefix + "negate", negate, "Negate requires a predicate")
            stages.append(TransformationStage(alias, transformation, predicate, negate))
        return TransformationChain(stages)

    def apply(self, record: R) -> R | None:
        """Run ``record`` through every stage; None when a stage dropped it."""
        current: R | None = record
        for stage in self.stages:
            if current is None:
                return None
            current = stage.apply(current)
        return current

    def close(self) -> None:
        """Close every transform and predicate."""
        for stage in self.stages:
            stage.close()

    def __len__(self) -> int:
        return len(self.stages)
