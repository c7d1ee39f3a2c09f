"""Codec exceptions and the base class of Kafka's error-code exceptions.

Two families live here because every other module of the package needs them
and they need nothing else:

* :class:`ProtocolError` and its subclasses report bytes that are not valid
  Kafka protocol (decoding) or values that cannot be written in the chosen
  version (encoding). Decoders raise only :class:`ProtocolDecodeError`.
* :class:`KafkaError` is the root of the one-class-per-error-code hierarchy in
  ``_errors.py``; each subclass registers itself here by its code.
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "KafkaError",
    "ProtocolDecodeError",
    "ProtocolEncodeError",
    "ProtocolError",
    "error_for_code",
    "raise_for_code",
]


class ProtocolError(Exception):
    """Base class of codec errors: bytes or values that break the wire format."""


class ProtocolDecodeError(ProtocolError):
    """Bytes that cannot be decoded: truncated, oversized, or malformed.

    The only exception a decoder raises on bad input, whatever the bytes.
    """


class ProtocolEncodeError(ProtocolError):
    """A value that cannot be encoded in the requested version: out of range,
    of the wrong type, or set on a field the version does not have."""


class KafkaError(Exception):
    """An error a Kafka broker reports with an error code.

    Each subclass stands for one code of Kafka's ``Errors.java`` and carries
    the code, whether a client may retry, and Kafka's default message (the
    subclass docstring). Find a class by code with
    :func:`tidal.log.protocol.error_for_code`.

    Example::

        try:
            raise_for_code(3)
        except UnknownTopicOrPartitionError as e:
            assert e.retriable and e.code == 3
    """

    code: ClassVar[int] = -1
    retriable: ClassVar[bool] = False
    default_message: ClassVar[str] = "The server experienced an unexpected error."
    registry: ClassVar[dict[int, type[KafkaError]]] = {}

    def __init_subclass__(cls, code: int | None = None, retriable: bool = False) -> None:
        super().__init_subclass__()
        if code is None:
            return
        cls.code = code
        cls.retriable = retriable
        doc = " ".join((cls.__doc__ or "").split())
        cls.default_message = doc
        if code in KafkaError.registry:
            raise TypeError(f"error code {code} declared twice")
        KafkaError.registry[code] = cls

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.default_message)
        #: The message: the broker's error message when it sent one, else Kafka's default.
        self.message = message or self.default_message


def error_for_code(code: int) -> type[KafkaError]:
    """The exception class of Kafka error ``code``.

    Unknown codes map to ``UnknownServerError`` (-1), as Kafka's clients do;
    code 0 means "no error" and has no class.
    """
    if code == 0:
        raise ValueError("error code 0 means no error")
    registry = KafkaError.registry
    return registry.get(code) or registry[-1]


def raise_for_code(code: int, message: str | None = None) -> None:
    """Raise the exception of ``code`` with the broker's ``message``; do
    nothing for 0. An unknown code raises ``UnknownServerError`` naming it."""
    if code == 0:
        return
    cls = error_for_code(code)
    if cls.code != code:
        message = f"unknown error code {code}" + (f": {message}" if message else "")
    raise cls(message)
