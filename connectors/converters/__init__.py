"""Converters between Connect data and record bytes, compatible with Kafka Connect's.

=========================  ==================================================
class                      Kafka name
=========================  ==================================================
:class:`JsonConverter`      ``org.apache.kafka.connect.json.JsonConverter``
:class:`StringConverter`    ``org.apache.kafka.connect.storage.StringConverter``
:class:`ByteArrayConverter` ``org.apache.kafka.connect.converters.ByteArrayConverter``
:class:`SimpleHeaderConverter` ``org.apache.kafka.connect.storage.SimpleHeaderConverter``
:class:`LongConverter` ...   ``org.apache.kafka.connect.converters.LongConverter`` (also
                           Short, Integer, Float, Double and Boolean)
:class:`MsgpackConverter`   (Tidal's own)
=========================  ==================================================

Find one by any of these names with :func:`tidal.connectors.plugins.converter_class`.
"""

from ._base import CONVERTER_TYPE_CONFIG, Converter, HeaderConverter
from ._json import JsonConverter
from ._msgpack import MsgpackConverter
from ._numbers import (
    BooleanConverter,
    DoubleConverter,
    FloatConverter,
    IntegerConverter,
    LongConverter,
    NumberConverter,
    ShortConverter,
)
from ._simple import ByteArrayConverter, SimpleHeaderConverter, StringConverter

__all__ = [
    "CONVERTER_TYPE_CONFIG",
    "BooleanConverter",
    "ByteArrayConverter",
    "Converter",
    "DoubleConverter",
    "FloatConverter",
    "HeaderConverter",
    "IntegerConverter",
    "JsonConverter",
    "LongConverter",
    "MsgpackConverter",
    "NumberConverter",
    "ShortConverter",
    "SimpleHeaderConverter",
    "StringConverter",
]
