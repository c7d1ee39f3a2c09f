"""Java's number formatting, for output that must match Kafka's byte for byte.

Java prints a double with ``Double.toString``: the shortest digits that round-trip (as
Python's ``repr``), but as ``d.dddE<n>`` outside ``[1e-3, 1e7)`` and always with a ``.0``
when integral. ``Float.toString`` does the same for the shortest float32 digits.
"""

from __future__ import annotations

import math
import struct

__all__ = ["java_double", "java_float", "java_to_string", "to_float32"]


_FLOAT32_MAX = 3.4028234663852886e38
_FLOAT32_OVERFLOW = 3.4028235677973366e38  # FLT_MAX + half an ulp: rounds to infinity


def to_float32(value: float) -> float:
    """``value`` rounded to the nearest float32, as Java's ``(float)`` cast does."""
    try:
        return float(struct.unpack(">f", struct.pack(">f", value))[0])
    except OverflowError:  # beyond FLT_MAX, where struct refuses to round
        magnitude = _FLOAT32_MAX if abs(value) < _FLOAT32_OVERFLOW else math.inf
        return math.copysign(magnitude, value)


def java_double(value: float) -> str:
    """``value`` as Java's ``Double.toString`` prints it (JDK 19+ digits)."""
    return _java_format(value, _two_digits_when_one(value, repr(value)))


def java_float(value: float) -> str:
    """``value`` rounded to float32, as Java's ``Float.toString`` prints it."""
    value = to_float32(value)
    return _java_format(value, _two_digits_when_one(value, _shortest_float32(value)))


def _two_digits_when_one(value: float, shortest: str) -> str:
    # Java never prints a single significant digit: when one would do, it prints the
    # two-digit decimal closest to the exact binary value (Double.MIN_VALUE is 4.9E-324).
    if not math.isfinite(value) or value == 0:
        return shortest
    mantissa = shortest.lstrip("-").partition("e")[0].replace(".", "").strip("0")
    return f"{value:.1e}" if len(mantissa) == 1 else shortest


def _shortest_float32(value: float) -> str:
    if not math.isfinite(value):
        return repr(value)
    for digits in range(1, 10):
        text = f"{value:.{digits}g}"
        if to_float32(float(text)) == value:
            return text
    return repr(value)


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


def java_to_string(value: object) -> str:
    """``value`` as Java's ``toString`` would print the equivalent Connect value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return java_double(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(java_to_string(v) for v in value) + "]"
    if isinstance(value, dict):
        inner = ", ".join(f"{java_to_string(k)}={java_to_string(v)}" for k, v in value.items())
        return "{" + inner + "}"
    return str(value)
