"""Reading the spooled files: CSV with a header row, and JSON lines; schemas and keys.

A file is read twice: :func:`scan` goes through all of it first, so a malformed file is
found before any of its records is sent (it then goes to ``error.path`` whole), and counts
its records and infers the schema; :func:`read` then yields the records from a given one on.

Schemas (``schema.generation.enabled``):

* CSV, off (default): a Struct of optional strings, one field per header column, cells as
  written. On: each column's type inferred from its non-empty cells over the whole file:
  BOOLEAN (``true``/``false``, any case), INT64, FLOAT64, else STRING; empty cells are null.
* JSON lines, off: each line's object as a schemaless map. On: a Struct with every key seen
  in the file (first appearance order), typed BOOLEAN, INT64, FLOAT64 (ints and floats mixed)
  or STRING (strings; anything else, or mixed types, as JSON text), all optional.

``key.fields`` picks the key: a Struct (or map) of those fields. The schemas are named
``tidal.spooldir.Value`` and ``tidal.spooldir.Key``.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tidal.connectors.api import DataError, Schema, SchemaBuilder, Struct, Type

__all__ = ["FileLayout", "read", "scan"]

_INT = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_VALUE_NAME = "tidal.spooldir.Value"
_KEY_NAME = "tidal.spooldir.Key"


@dataclass(frozen=True, slots=True)
class FileLayout:
    """What the scan found: the record count and, when generated, the schemas."""

    count: int
    columns: tuple[str, ...]
    value_schema: Schema | None
    key_schema: Schema | None


def scan(
    path: Path, fmt: str, infer: bool, key_fields: Sequence[str], encoding: str, sep: str
) -> FileLayout:
    """Check the whole file; DataError naming the line when it cannot be read."""
    count = 0
    columns: list[str] = []
    kinds: dict[str, Type] = {}
    for line, item in _items(path, fmt, encoding, sep):
        count += 1
        if fmt == "csv":
            if not columns:
                columns = list(item[0])
            _observe(kinds, dict(zip(columns, item[1], strict=True)), csv_cells=True)
        else:
            if not isinstance(item, dict):
                raise DataError(f"{path.name} line {line}: not a JSON object")
            for name in item:
                if name not in kinds:
                    columns.append(name)
            _observe(kinds, item, csv_cells=False)
    if fmt == "csv" and not columns:
        columns = _csv_header(path, encoding, sep)
    missing = [k for k in key_fields if k not in columns and (fmt == "csv" or infer)]
    if missing:
        raise DataError(f"{path.name}: key.fields {', '.join(missing)} not in the file")
    value_schema = key_schema = None
    if fmt == "csv" or infer:
        builder = SchemaBuilder.struct().name(_VALUE_NAME)
        for name in columns:
            kind = kinds.get(name, Type.STRING) if infer else Type.STRING
            builder.field(name, SchemaBuilder(kind).optional().build())
        value_schema = builder.build()
        if key_fields:
            key = SchemaBuilder.struct().name(_KEY_NAME)
            for name in key_fields:
                field = value_schema.field(name)
                assert field is not None
                key.field(name, field.schema)
            key_schema = key.build()
    return FileLayout(count, tuple(columns), value_schema, key_schema)


def read(
    path: Path,
    fmt: str,
    layout: FileLayout,
    key_fields: Sequence[str],
    encoding: str,
    sep: str,
    skip: int,
) -> Generator[tuple[int, Any, Any], None, None]:
    """``(record number, key, value)`` of every record after the first ``skip``."""
    number = 0
    for _, item in _items(path, fmt, encoding, sep):
        number += 1
        if number <= skip:
            continue
        raw = dict(zip(layout.columns, item[1], strict=True)) if fmt == "csv" else item
        value = _value(layout.value_schema, raw, csv_cells=fmt == "csv")
        key: Any = None
        if key_fields:
            if layout.key_schema is not None:
                key = Struct(layout.key_schema)
                for name in key_fields:
                    key.put(name, value.get(name))
            else:
                key = {name: raw.get(name) for name in key_fields}
        yield number, key, value


def _items(path: Path, fmt: str, encoding: str, sep: str) -> Iterator[tuple[int, Any]]:
    with path.open(encoding=encoding, newline="") as handle:
        if fmt == "csv":
            rows = csv.reader(handle, delimiter=sep, strict=True)
            try:
                header = next(rows, None)
                if header is None:
                    return
                for row in rows:
                    if not row:
                        continue
                    if len(row) != len(header):
                        raise DataError(f"{path.name} line {rows.line_num}: {len(row)} columns, "
                                        f"the header has {len(header)}")  # fmt: skip
                    yield rows.line_num, (header, row)
            except csv.Error as exc:
                raise DataError(f"{path.name} line {rows.line_num}: {exc}") from exc
            return
        for line, text in enumerate(handle, 1):
            if not text.strip():
                continue
            try:
                yield line, json.loads(text)
            except json.JSONDecodeError as exc:
                raise DataError(f"{path.name} line {line}: {exc}") from exc


def _csv_header(path: Path, encoding: str, sep: str) -> list[str]:
    with path.open(encoding=encoding, newline="") as handle:
        return next(csv.reader(handle, delimiter=sep), [])


def _observe(kinds: dict[str, Type], row: dict[str, Any], *, csv_cells: bool) -> None:
    for name, cell in row.items():
        kind = _csv_kind(cell) if csv_cells else _json_kind(cell)
        if kind is None:
            continue
        known = kinds.get(name)
        if known is None or known is kind:
            kinds[name] = kind
        elif {known, kind} == {Type.INT64, Type.FLOAT64}:
            kinds[name] = Type.FLOAT64
        else:
            kinds[name] = Type.STRING


def _csv_kind(cell: str) -> Type | None:
    if cell == "":
        return None
    if cell.lower() in ("true", "false"):
        return Type.BOOLEAN
    if _INT.fullmatch(cell):
        return Type.INT64
    if _FLOAT.fullmatch(cell):
        return Type.FLOAT64
    return Type.STRING


def _json_kind(value: Any) -> Type | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return Type.BOOLEAN
    if isinstance(value, int):
        return Type.INT64
    if isinstance(value, float):
        return Type.FLOAT64
    return Type.STRING


def _value(schema: Schema | None, raw: dict[str, Any], *, csv_cells: bool) -> Any:
    if schema is None:
        return raw
    value = Struct(schema)
    for field in schema.fields:
        cell = raw.get(field.name)
        value.put(field.name, _cell(field.schema.type, cell, csv_cells=csv_cells))
    return value


def _cell(kind: Type, cell: Any, *, csv_cells: bool) -> Any:
    if cell is None:
        return None
    if csv_cells:
        if kind is Type.STRING:
            return cell
        if cell == "":
            return None
        if kind is Type.BOOLEAN:
            return cell.lower() == "true"
        return int(cell) if kind is Type.INT64 else float(cell)
    if kind is Type.FLOAT64:
        return float(cell)
    if kind is Type.STRING and not isinstance(cell, str):
        return json.dumps(cell)
    return cell
