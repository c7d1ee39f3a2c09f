"""The message channel between a worker and its task processes.

Each message is a JSON object framed by a 4-byte big-endian length, over one end of a
``socket.socketpair()``. Both ends write from a single event loop, so frames never
interleave::

    channel = await Channel.open(sock)
    channel.send({"op": "status", "task": ["file-source", 0], "state": "RUNNING"})
    message = await channel.receive()   # None once the other end has gone
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from typing import Any

import orjson

__all__ = ["Channel", "ChannelError"]

_LENGTH = struct.Struct(">I")
#: A frame longer than this is a broken peer, not a message (offsets, configs and traces
#: are a few KiB).
MAX_FRAME = 64 * 1024 * 1024


class ChannelError(Exception):
    """The other end sent something that is not a framed JSON object."""


class Channel:
    """Framed JSON messages over a connected stream socket."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer

    @classmethod
    async def open(cls, sock: socket.socket) -> Channel:
        """Wrap a connected socket (the caller gives up its ownership)."""
        reader, writer = await asyncio.open_connection(sock=sock, limit=MAX_FRAME)
        return cls(reader, writer)

    def send(self, message: dict[str, Any]) -> None:
        """Queue one message (written as soon as the socket takes it)."""
        if self._writer.is_closing():
            return
        body = orjson.dumps(message)
        self._writer.write(_LENGTH.pack(len(body)) + body)

    async def drain(self) -> None:
        """Wait until queued messages are handed to the socket."""
        if not self._writer.is_closing():
            await self._writer.drain()

    async def receive(self) -> dict[str, Any] | None:
        """The next message, or None once the other end closed its side."""
        try:
            header = await self._reader.readexactly(_LENGTH.size)
        except (asyncio.IncompleteReadError, ConnectionError):
            return None
        (length,) = _LENGTH.unpack(header)
        if length > MAX_FRAME:
            raise ChannelError(f"a frame of {length} bytes is over the {MAX_FRAME} byte limit")
        try:
            body = await self._reader.readexactly(length)
        except (asyncio.IncompleteReadError, ConnectionError):
            return None
        try:
            message = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise ChannelError(f"a frame that is not JSON: {exc}") from None
        if not isinstance(message, dict) or not isinstance(message.get("op"), str):
            raise ChannelError(f"a frame without an 'op': {body[:200]!r}")
        return message

    async def close(self) -> None:
        """Close the socket."""
        self._writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await self._writer.wait_closed()
