"""Java's number formatting, for output that must match Kafka's byte for byte.

Java prints a double with ``Double.toString``: the shortest digits that round-trip (as
Python's ``repr``), but as ``d.dddE<n>`` outside ``[1e-3, 1e7)`` and always with a ``.0``
when integral. ``Float.toString`` does the same for the shortest float32 digits.
"""

from __future__ import annotations

import math
import struct

__all__ = ["java_double", "java_float"]


def java_double(value: float) -> str:
    """``value`` as Java's ``Double.toString`` prints it."""
    return _java_format(value, repr(value))


def java_float(value: float) -> str:
    """``value`` rounded to float32, as Java's ``Float.toString`` prints it."""
    return _java_format(value, _shortest_float32(value))


def _shortest_float32(value: float) -> str:
    if not math.isfinite(value):
        return repr(value)
    target = struct.pack(">f", value)
    for digits in range(1, 10):
        text = f"{value:.{digits}g}"
        if struct.pack(">f", float(text)) == target:
            return text
    return repr(struct.unpack(">f", target)[0])


def _java_format(value: float, shortest: str) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    sign = "-" if shortest.startswith("-") else ""
    mantissa, _, exp_text = shortest.lstrip("-").partition("e")
    exponent = int(exp_text) if exp_text else 0
    whole, _, frac = mantissa.partition(".")
    digits = (whole + frac).lstrip("0")
    # Position of the decimal point relative to the first significant digit.
    point = (
        len(whole.lstrip("0")) + exponent
        if whole.strip("0")
        else exponent - (len(frac) - len(frac.lstrip("0")))
    )
    digits = digits.rstrip("0") or "0"
    magnitude = abs(value)
    if 1e-3 <= magnitude < 1e7:
        if point <= 0:
            return f"{sign}0.{'0' * -point}{digits}"
        if point >= len(digits):
            return f"{sign}{digits}{'0' * (point - len(digits))}.0"
        return f"{sign}{digits[:point]}.{digits[point:]}"
    rest = digits[1:] or "0"
    return f"{sign}{digits[0]}.{rest}E{point - 1}"
