"""Reading worker and connector configuration files the way Kafka Connect does.

``connect-standalone.sh`` takes Java ``.properties`` files; Kafka 3.x also accepts a
connector file in JSON, either the body of ``POST /connectors`` (``{"name": ..., "config":
{...}}``) or a flat map. :func:`load_config_file` reads either and reports a problem as a
:class:`ConfigFileError` naming the file, the line and, where there is one, the key::

    load_config_file("worker.properties")   # {'bootstrap.servers': 'localhost:9092', ...}

The properties syntax is Java's ``Properties.load``: ``key=value``, ``key: value`` or ``key
value``; ``#`` and ``!`` start comments; a line ending in an odd number of backslashes
continues on the next line; ``\\t``, ``\\n``, ``\\uXXXX`` and backslash-escaped separators are
unescaped.
"""

from __future__ import annotations

import json
from pathlib import Path

__all__ = ["ConfigFileError", "load_config_file", "parse_properties"]


class ConfigFileError(ValueError):
    """A configuration file cannot be read or parsed; the message names the file."""


_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}


def _unescape(text: str, where: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char != "\\" or i + 1 >= len(text):
            out.append(char)
            i += 1
            continue
        nxt = text[i + 1]
        if nxt == "u":
            digits = text[i + 2 : i + 6]
            if len(digits) != 4 or any(c not in "0123456789abcdefABCDEF" for c in digits):
                raise ConfigFileError(f"{where}: malformed \\uxxxx escape")
            out.append(chr(int(digits, 16)))
            i += 6
            continue
        out.append(_ESCAPES.get(nxt, nxt))
        i += 2
    return "".join(out)


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """Lines with continuations joined, each with the number of its first physical line."""
    lines: list[tuple[int, str]] = []
    pending: str | None = None
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.lstrip(" \t\f") if pending is not None else raw
        if pending is None:
            stripped = line.lstrip(" \t\f")
            if not stripped or stripped[0] in "#!":
                continue
            line = stripped
            start = number
        trailing = len(line) - len(line.rstrip("\\"))
        if trailing % 2 == 1:
            pending = (pending or "") + line[:-1]
            continue
        lines.append((start, (pending or "") + line))
        pending = None
    if pending is not None:
        lines.append((start, pending))
    return lines


def _split(line: str) -> tuple[str, str]:
    """Java's rule: the key ends at the first unescaped ``=``, ``:`` or whitespace; one
    ``=``/``:`` after the whitespace still belongs to the separator."""
    i = 0
    while i < len(line) and line[i] not in "=: \t\f":
        i += 2 if line[i] == "\\" else 1
    key, rest = line[:i], line[i:]
    separator_seen = rest[:1] in ("=", ":")
    rest = rest[1:] if separator_seen else rest
    rest = rest.lstrip(" \t\f")
    if not separator_seen and rest[:1] in ("=", ":"):
        rest = rest[1:].lstrip(" \t\f")
    return key, rest


def parse_properties(text: str, source: str = "<string>") -> dict[str, str]:
    """The key/value pairs of Java properties ``text`` (the last value of a key wins)."""
    props: dict[str, str] = {}
    for number, line in _logical_lines(text):
        where = f"{source}, line {number}"
        raw_key, raw_value = _split(line)
        key = _unescape(raw_key, where)
        if not key:
            raise ConfigFileError(f"{where}: a line with a value but no key")
        props[key] = _unescape(raw_value, f"{where}, key '{key}'")
    return props


def _json_config(text: str, source: str) -> dict[str, str]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigFileError(f"{source}: not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigFileError(f"{source}: a JSON connector file must hold an object")
    if isinstance(data.get("config"), dict):
        config = dict(data["config"])
        if "name" in data:
            config.setdefault("name", data["name"])
    else:
        config = data
    out: dict[str, str] = {}
    for key, value in config.items():
        if isinstance(value, dict | list):
            raise ConfigFileError(f"{source}: key '{key}': values must be strings, not {value!r}")
        out[str(key)] = _json_scalar(value)
    return out


def _json_scalar(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def load_config_file(path: str | Path) -> dict[str, str]:
    """The configuration in a ``.properties`` or JSON file (JSON when it starts with ``{``)."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigFileError(f"{source}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigFileError(f"{source}: cannot be read: {exc}") from None
    if text.lstrip().startswith("{"):
        return _json_config(text, source)
    return parse_properties(text, source)
