"""Single message transforms and predicates, with Kafka Connect's names and configs.

===========================  ===============================================
transform                    Kafka class (``org.apache.kafka.connect.transforms.``)
===========================  ===============================================
:class:`InsertField`          ``InsertField$Key`` / ``InsertField$Value``
:class:`ReplaceField`         ``ReplaceField$Key`` / ``ReplaceField$Value``
:class:`MaskField`            ``MaskField$Key`` / ``MaskField$Value``
:class:`ValueToKey`           ``ValueToKey``
:class:`ExtractField`         ``ExtractField$Key`` / ``ExtractField$Value``
:class:`Cast`                 ``Cast$Key`` / ``Cast$Value``
:class:`TimestampRouter`      ``TimestampRouter``
:class:`RegexRouter`          ``RegexRouter``
:class:`Filter`               ``Filter``
:class:`HoistField`           ``HoistField$Key`` / ``HoistField$Value``
:class:`SetSchemaMetadata`    ``SetSchemaMetadata$Key`` / ``SetSchemaMetadata$Value``
:class:`Flatten`              ``Flatten$Key`` / ``Flatten$Value``
:class:`InsertHeader`         ``InsertHeader``
:class:`DropHeaders`          ``DropHeaders``
:class:`HeaderFrom`           ``HeaderFrom$Key`` / ``HeaderFrom$Value``
:class:`TimestampConverter`   ``TimestampConverter$Key`` / ``TimestampConverter$Value``
===========================  ===============================================

Predicates (``...transforms.predicates.``): :class:`TopicNameMatches`,
:class:`HasHeaderKey`, :class:`RecordIsTombstone`. Build a chain from connector properties
with :meth:`TransformationChain.from_props`.
"""

from typing import Any

from ._base import KeyOrValueTransformation, Predicate, Transformation
from ._cast import Cast
from ._chain import TransformationChain, TransformationStage
from ._flatten import Flatten
from ._headers import DropHeaders, HeaderFrom, InsertHeader
from ._insert import InsertField
from ._predicates import HasHeaderKey, RecordIsTombstone, TopicNameMatches
from ._replace_mask import MaskField, ReplaceField
from ._routing import Filter, RegexRouter, TimestampRouter
from ._shape import ExtractField, HoistField, SetSchemaMetadata, ValueToKey
from ._timestamp import TimestampConverter

__all__ = [
    "KAFKA_PREDICATES",
    "KAFKA_TRANSFORMS",
    "Cast",
    "DropHeaders",
    "ExtractField",
    "Filter",
    "Flatten",
    "HasHeaderKey",
    "HeaderFrom",
    "HoistField",
    "InsertField",
    "InsertHeader",
    "KeyOrValueTransformation",
    "MaskField",
    "Predicate",
    "RecordIsTombstone",
    "RegexRouter",
    "ReplaceField",
    "SetSchemaMetadata",
    "TimestampConverter",
    "TimestampRouter",
    "TopicNameMatches",
    "Transformation",
    "TransformationChain",
    "TransformationStage",
    "ValueToKey",
]


def _kafka_names() -> dict[str, type[Transformation[Any]]]:
    names: dict[str, type[Transformation[Any]]] = {}
    for base in (
        InsertField, ReplaceField, MaskField, ExtractField, Cast, HoistField, Flatten, HeaderFrom,
        TimestampConverter,
    ):  # fmt: skip
        names[base.kafka_name + "$Key"] = base.Key
        names[base.kafka_name + "$Value"] = base.Value
    names[SetSchemaMetadata.kafka_name + "$Key"] = SetSchemaMetadata.Key
    names[SetSchemaMetadata.kafka_name + "$Value"] = SetSchemaMetadata.Value
    for single in (ValueToKey, TimestampRouter, RegexRouter, Filter, InsertHeader, DropHeaders):
        names[single.kafka_name] = single
    return names


KAFKA_TRANSFORMS: dict[str, type[Transformation[Any]]] = _kafka_names()
"""Kafka's class name of every built-in transform, mapped to ours."""

KAFKA_PREDICATES: dict[str, type[Predicate[Any]]] = {
    p.kafka_name: p for p in (TopicNameMatches, HasHeaderKey, RecordIsTombstone)
}
"""Kafka's class name of every built-in predicate, mapped to ours."""
