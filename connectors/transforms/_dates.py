"""Java ``SimpleDateFormat`` patterns: formatting and parsing, always in UTC.

Kafka's TimestampRouter and TimestampConverter take their formats as ``SimpleDateFormat``
patterns (``yyyyMMdd``, ``yyyy-MM-dd'T'HH:mm:ss.SSS``). The common letters are supported:
``y M d H k K h m s S D u E a`` and the zone letters ``z Z X`` (always UTC here); text in
single quotes is literal and ``''`` is a quote. Any other letter is a ConfigError.
"""

from __future__ import annotations

import datetime
import re

from tidal.connectors.api import DataError
from tidal.connectors.config import ConfigError

__all__ = ["check_pattern", "java_date_format", "java_date_parse"]

_PATTERN_LETTERS = re.compile(r"'((?:[^']|'')*)'|([A-Za-z])\2*|[^A-Za-z']+")
_MONTHS = [
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
]  # fmt: skip
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def _field(letter: str, count: int, moment: datetime.datetime) -> str:
    def number(value: int) -> str:
        return str(value).zfill(count)

    if letter == "y":
        return str(moment.year % 100).zfill(2) if count == 2 else number(moment.year)
    if letter == "M":
        if count >= 4:
            return _MONTHS[moment.month - 1]
        if count == 3:
            return _MONTHS[moment.month - 1][:3]
        return number(moment.month)
    simple = {
        "d": moment.day,
        "H": moment.hour,
        "k": moment.hour or 24,
        "K": moment.hour % 12,
        "h": moment.hour % 12 or 12,
        "m": moment.minute,
        "s": moment.second,
        "D": moment.timetuple().tm_yday,
        "u": moment.isoweekday(),
    }
    if letter in simple:
        return number(simple[letter])
    if letter == "S":
        return number(moment.microsecond // 1000)
    if letter == "E":
        day = _DAYS[moment.weekday()]
        return day if count >= 4 else day[:3]
    if letter == "a":
        return "AM" if moment.hour < 12 else "PM"
    if letter in "zZX":
        return {"z": "UTC", "Z": "+0000", "X": "Z"}[letter]
    raise ConfigError(f"Illegal pattern character '{letter}'")


def java_date_format(pattern: str, moment: datetime.datetime) -> str:
    """``moment`` formatted with a ``SimpleDateFormat`` pattern (common letters)."""
    out = []
    for match in _PATTERN_LETTERS.finditer(pattern):
        if match.group(1) is not None:
            quoted = match.group(1)
            out.append(quoted.replace("''", "'") if quoted else "'")  # '' is a literal quote
        elif match.group(2) is not None:
            out.append(_field(match.group(2), len(match.group()), moment))
        else:
            out.append(match.group())
    return "".join(out)


def check_pattern(pattern: str) -> None:
    """Raise ConfigError unless every letter of ``pattern`` is supported."""
    java_date_format(pattern, datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC))


_NUMERIC = set("yMdHkKhmsSDu")


def _tokens(pattern: str) -> list[tuple[str, str, int]]:
    """(kind, text, count): kind "lit" for literal text, else the pattern letter."""
    tokens: list[tuple[str, str, int]] = []
    for match in _PATTERN_LETTERS.finditer(pattern):
        if match.group(1) is not None:
            quoted = match.group(1)
            tokens.append(("lit", quoted.replace("''", "'") if quoted else "'", 0))
        elif match.group(2) is not None:
            tokens.append((match.group(2), match.group(), len(match.group())))
        else:
            tokens.append(("lit", match.group(), 0))
    return tokens


def java_date_parse(pattern: str, text: str) -> datetime.datetime:
    """Parse ``text`` with a ``SimpleDateFormat`` pattern (UTC); DataError on mismatch.

    Numeric fields take as many digits as are there, except when directly followed by
    another numeric field (``yyyyMMdd``), where they take exactly their pattern width.
    """
    tokens = [
        ("Mtext" if kind == "M" and count >= 3 else kind, literal, count)
        for kind, literal, count in _tokens(pattern)
    ]
    regex = []
    for i, (kind, literal, count) in enumerate(tokens):
        if kind == "lit":
            regex.append(re.escape(literal))
        elif kind in _NUMERIC:
            abutting = i + 1 < len(tokens) and tokens[i + 1][0] in _NUMERIC
            regex.append(rf"(\d{{{count}}})" if abutting else r"([+-]?\d+)")
        elif kind in ("Mtext", "E"):
            regex.append("([A-Za-z]+)")
        elif kind == "a":
            regex.append("(AM|PM|am|pm)")
        else:  # zone letters: UTC only
            regex.append("(Z|UTC|GMT|[+-]00:?00)")
    match = re.fullmatch("".join(regex), text.strip())
    if match is None:
        raise DataError(
            f"Could not parse timestamp: value ({text}) does not match pattern ({pattern})"
        )
    fields = {"y": 1970, "M": 1, "d": 1, "H": 0, "m": 0, "s": 0, "S": 0}
    pm: bool | None = None
    hour12: int | None = None
    groups = iter(match.groups())
    for kind, _literal, count in tokens:
        if kind == "lit":
            continue
        value = next(groups)
        if kind == "Mtext":
            fields["M"] = [m[:3].lower() for m in _MONTHS].index(value[:3].lower()) + 1
        elif kind in ("y", "M", "d", "H", "m", "s", "S"):
            number = int(value)
            if kind == "y" and count == 2 and len(value) == 2:
                number += 2000 if number < 70 else 1900
            fields[kind] = number
        elif kind in ("h", "K"):
            hour12 = int(value) % 12
        elif kind == "k":
            fields["H"] = int(value) % 24
        elif kind == "a":
            pm = value.upper() == "PM"
    if hour12 is not None:
        fields["H"] = hour12 + (12 if pm else 0)
    try:
        moment = datetime.datetime(
            fields["y"], fields["M"], fields["d"], fields["H"], fields["m"], fields["s"],
            tzinfo=datetime.UTC,
        )  # fmt: skip
    except ValueError as exc:
        raise DataError(f"Could not parse timestamp: value ({text}): {exc}") from None
    return moment + datetime.timedelta(milliseconds=fields["S"])
