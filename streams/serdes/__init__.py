"""Serdes: values to bytes and back, for topics and state stores.

Built-in serdes and the names :func:`resolve_serde` knows them by:

==================  =====================  ========================================
name                serde                  bytes
==================  =====================  ========================================
``bytes``           :class:`BytesSerde`    as given
``str``/``string``  :class:`StringSerde`   UTF-8
``int``/``integer`` :class:`IntegerSerde`  4 bytes big-endian signed
``long``            :class:`LongSerde`     8 bytes big-endian signed
``float``           :class:`FloatSerde`    IEEE 754 binary32, big-endian
``double``          :class:`DoubleSerde`   IEEE 754 binary64, big-endian
``json``            :class:`JsonSerde`     JSON (orjson)
``msgpack``         :class:`MsgpackSerde`  MessagePack, the default for state
==================  =====================  ========================================

``None`` passes through every serde as ``None`` (a tombstone).
"""

from tidal.streams.serdes._base import FunctionSerde, Serde, SerializationError
from tidal.streams.serdes._primitive import (
    BytesSerde,
    DoubleSerde,
    FloatSerde,
    IntegerSerde,
    LongSerde,
    StringSerde,
)
from tidal.streams.serdes._resolve import SERDE_NAMES, resolve_serde
from tidal.streams.serdes._structured import JsonSerde, MsgpackSerde

__all__ = [
    "SERDE_NAMES",
    "BytesSerde",
    "DoubleSerde",
    "FloatSerde",
    "FunctionSerde",
    "IntegerSerde",
    "JsonSerde",
    "LongSerde",
    "MsgpackSerde",
    "Serde",
    "SerializationError",
    "StringSerde",
    "resolve_serde",
]
