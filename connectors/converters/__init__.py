"""Converters between Connect data and record bytes, compatible with Kafka Connect's.

=========================  ==================================================
class                      Kafka name
=========================  ==================================================
:class:`JsonConverter`      ``org.apache.kafka.connect.json.JsonConverter``
:class:`StringConverter`    ``org.apache.kafka.connect.storage.StringConverter``
:class:`ByteArrayConverter` ``org.apache.kafka.connect.converters.ByteArrayConverter``
:class:`SimpleHeaderConverter` ``org.apache.kafka.connect.storage.SimpleHeaderConverter``
:class:`MsgpackConverter`   (Tidal's own)
=========================  ==================================================

Find one by any of these names with :func:`tidal.connectors.plugins.converter_class`.
"""

from ._base import CONVERTER_TYPE_CONFIG, Converter, HeaderConverter
from ._json import JsonConverter
from ._msgpack import MsgpackConverter
from ._simple import ByteArrayConverter, SimpleHeaderConverter, StringConverter

__all__ = [
    "CONVERTER_TYPE_CONFIG",
    "ByteArrayConverter",
    "Converter",
    "HeaderConverter",
    "JsonConverter",
    "MsgpackConverter",
    "SimpleHeaderConverter",
    "StringConverter",
]
