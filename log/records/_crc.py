"""CRC-32C (Castagnoli), the checksum of record batch v2.

The ``crc32c`` package uses the SSE4.2/ARMv8 instruction where the CPU has it.
"""

from __future__ import annotations

import crc32c as _crc32c

__all__ = ["crc32c"]


def crc32c(data: bytes | bytearray | memoryview) -> int:
    """CRC-32C of ``data``; ``crc32c(b"123456789") == 0xE3069283``."""
    return int(_crc32c.crc32c(data))
