"""Source snippets for one field, used by the message compiler.

Each method returns lines of Python (indented for a function body) that
decode a field from ``buf`` at ``pos`` into a target, or encode a value into
an output ``bytearray``. Layout choices live here: classic int16/int32
lengths or compact uvarint length+1, null markers, and bulk ``struct`` reads
for arrays of fixed-width items.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING, Any

from tidal.log.protocol import _types as t
from tidal.log.protocol._schema import _EMPTY, ArrayOf, FieldSpec, in_range

if TYPE_CHECKING:
    from tidal.log.protocol._compiler import _Generator

__all__ = ["FieldCode"]

_COMPACT: dict[str, tuple[t.Primitive[Any], t.Primitive[Any]]] = {
    "string": (t.STRING, t.COMPACT_STRING),
    "bytes": (t.BYTES, t.COMPACT_BYTES),
}


def _indent(lines: list[str], by: int) -> list[str]:
    pad = " " * by
    return [pad + line for line in lines]


class FieldCode:
    """Writes decode and encode snippets for the generator's version."""

    def __init__(self, gen: _Generator) -> None:
        self.gen = gen
        self.version = gen.version

    # -- defaults ---------------------------------------------------------

    def default_expr(self, spec: FieldSpec) -> str:
        if spec.default_factory is not None:
            return f"{self.gen.const(spec.default_factory, '_f')}()"
        if spec.default is _EMPTY:
            return "[]"
        if spec.default is None or isinstance(spec.default, bool | int):
            return repr(spec.default)
        return self.gen.const(spec.default)

    def differs(self, spec: FieldSpec, var: str) -> str:
        """An expression true when ``var`` is not the field's default."""
        if spec.default is _EMPTY and spec.default_factory is None:
            return f"{var}"
        if spec.default is None and spec.default_factory is None:
            return f"{var} is not None"
        if spec.default_factory is not None:
            # One default built at compile time, only ever compared against.
            return f"{var} != {self.gen.const(spec.default_factory(), '_dv')}"
        return f"{var} != {self.default_expr(spec)}"

    def absent_check(self, spec: FieldSpec) -> list[str]:
        return [
            f"    v = o.{spec.name}",
            f"    if {self.differs(spec, 'v')}: raise _absent({spec.name!r})",
        ]

    # -- fixed-width runs -------------------------------------------------

    def _run_struct(self, specs: list[FieldSpec]) -> struct.Struct:
        fmt = "".join(s.type.fmt for s in specs if isinstance(s.type, t._Fixed))
        return struct.Struct(">" + fmt)

    def decode_fixed_run(self, specs: list[FieldSpec]) -> list[str]:
        st = self._run_struct(specs)
        reader = self.gen.const(st.unpack_from, "_s")
        targets = ", ".join(f"o.{s.name}" for s in specs) + ("," if len(specs) == 1 else "")
        return [f"    {targets} = {reader}(buf, pos)", f"    pos += {st.size}"]

    def encode_fixed_run(self, specs: list[FieldSpec]) -> list[str]:
        packer = self.gen.const(self._run_struct(specs).pack, "_p")
        return [f"    out += {packer}({', '.join(f'o.{s.name}' for s in specs)})"]

    # -- lengths ----------------------------------------------------------

    @staticmethod
    def _read_length(compact: bool, wide: bool) -> list[str]:
        if compact:
            return [
                "n = buf[pos]",
                "if n < 128: pos += 1",
                "else: n, pos = _uv(buf, pos)",
                "n -= 1",
            ]
        return [f"n, = {'_ui' if wide else '_uh'}(buf, pos)", f"pos += {4 if wide else 2}"]

    @staticmethod
    def _write_length(compact: bool, wide: bool, count: str, out: str) -> list[str]:
        if compact:
            return [f"k = {count} + 1", f"if k < 128: {out}.append(k)", f"else: _wuv(k, {out})"]
        return [f"{out} += {'_pi' if wide else '_ph'}({count})"]

    # -- decode -----------------------------------------------------------

    def decode_field(self, spec: FieldSpec, target: str, *, flexible: bool) -> list[str]:
        nullable = in_range(self.version, spec.nullable_versions)
        typ = spec.type
        if isinstance(typ, ArrayOf):
            lines = self._decode_array(typ, target, nullable, flexible)
        elif isinstance(typ, type):
            dec, _ = self.gen.struct_functions(typ)
            lines = [f"{target}, pos = {dec}(buf, pos)"]
        elif typ.family == "fixed":
            reader = self.gen.const(struct.Struct(">" + typ.fmt).unpack_from, "_s")  # type: ignore[attr-defined]
            lines = [f"{target}, = {reader}(buf, pos)", f"pos += {typ.size}"]  # type: ignore[attr-defined]
        elif typ.family in ("string", "bytes", "records"):
            lines = self._decode_sized(typ.family, target, nullable, flexible)
        elif typ.family == "uuid":
            lines = [f"{target}, pos = _ruuid(buf, pos)"]
        else:
            lines = [f"{target}, pos = {self.gen.const(typ, '_P')}.decode(buf, pos)"]
        return _indent(lines, 4)

    def _decode_sized(self, family: str, target: str, nullable: bool, flexible: bool) -> list[str]:
        string = family == "string"
        lines = self._read_length(flexible, wide=not string)
        limit = "_MAXS" if string else "_MAXB"
        what = "string" if string else "bytes"
        if string:
            value = "str(buf[pos:pos + n], 'utf-8')"
        elif family == "records" and self.gen.records_views:
            value = "buf[pos:pos + n]"  # a view of a memoryview; a copy of bytes
        else:
            value = "_bytes(buf[pos:pos + n])"
        check = f"if n > L - pos or n > {limit}: raise _E(f'{what} of {{n}} bytes is too long')"
        take = [f"{target} = {value}", "pos += n"]
        if nullable:
            return [
                *lines,
                "if n < 0:",
                f"    if n != -1: raise _E(f'{what} has invalid length {{n}}')",
                f"    {target} = None",
                "else:",
                f"    {check}",
                *_indent(take, 4),
            ]
        return [
            *lines,
            f"if n < 0: raise _E(f'non-nullable {what} has length {{n}}')",
            check,
            *take,
        ]

    def _decode_array(self, typ: ArrayOf, target: str, nullable: bool, flexible: bool) -> list[str]:
        lines = self._read_length(flexible, wide=True)
        elem = typ.element
        if isinstance(elem, type):
            dec, _ = self.gen.struct_functions(elem)
            items = [
                "a = []",
                "for _ in range(n):",
                f"    x, pos = {dec}(buf, pos)",
                "    a.append(x)",
            ]
        elif elem.family == "fixed":
            fmt, size = elem.fmt, elem.size  # type: ignore[attr-defined]
            items = [f"a = list(_unpack('>%d{fmt}' % n, buf, pos))", f"pos += n * {size}"]
        else:
            prim = self.gen.const(self._element_primitive(elem, flexible), "_P")
            items = [
                "a = []",
                "for _ in range(n):",
                f"    x, pos = {prim}.decode(buf, pos, _LIM)",
                "    a.append(x)",
            ]
        check = "if n > L - pos or n > _MAXA: raise _E(f'array of {n} items is too long')"
        null = (
            ["if n == -1:", f"    {target} = None", "elif n < 0: raise _E('bad array length')"]
            if nullable
            else ["if n < 0: raise _E('non-nullable array is null')"]
        )
        return (
            [*lines, *null, check, *items, f"{target} = a"]
            if not nullable
            else [
                *lines,
                *null,
                "else:",
                *_indent([check, *items, f"{target} = a"], 4),
            ]
        )

    @staticmethod
    def _element_primitive(elem: t.Primitive[Any], flexible: bool) -> t.Primitive[Any]:
        pair = _COMPACT.get(elem.family)
        return pair[flexible] if pair else elem

    # -- encode -----------------------------------------------------------

    def encode_field(self, spec: FieldSpec, v: str, out: str, *, flexible: bool) -> list[str]:
        nullable = in_range(self.version, spec.nullable_versions)
        typ = spec.type
        if isinstance(typ, ArrayOf):
            lines = self._encode_array(typ, v, out, flexible)
        elif isinstance(typ, type):
            _, enc = self.gen.struct_functions(typ)
            lines = [f"{enc}({v}, {out})"]
        elif typ.family == "fixed":
            packer = self.gen.const(struct.Struct(">" + typ.fmt).pack, "_p")  # type: ignore[attr-defined]
            lines = [f"{out} += {packer}({v})"]
        elif typ.family in ("string", "bytes", "records"):
            lines = self._encode_sized(typ.family, v, out, flexible)
        elif typ.family == "uuid":
            lines = [f"{out} += {v}.bytes"]
        else:
            lines = [f"{self.gen.const(typ, '_P')}.encode({v}, {out})"]
        if nullable:
            marker = f"{out}.append(0)" if flexible else f"{out} += {self._null_marker(typ)}"
            lines = [f"if {v} is None: {marker}", "else:", *_indent(lines, 4)]
        return _indent(lines, 4)

    @staticmethod
    def _null_marker(typ: Any) -> str:
        string = not isinstance(typ, ArrayOf | type) and typ.family == "string"
        return "b'\\xff\\xff'" if string else "b'\\xff\\xff\\xff\\xff'"

    def _encode_sized(self, family: str, v: str, out: str, flexible: bool) -> list[str]:
        if family == "string":
            return [
                f"b = {v}.encode()",
                "if len(b) > _MAXS: raise _EE('string longer than 32767 bytes')",
                *self._write_length(flexible, False, "len(b)", out),
                f"{out} += b",
            ]
        # RECORDS may hold a RecordsChunk that a PiecesBuffer keeps out of line.
        write = f"_putrec({out}, {v})" if family == "records" else f"{out} += {v}"
        return [*self._write_length(flexible, True, f"len({v})", out), write]

    def _encode_array(self, typ: ArrayOf, v: str, out: str, flexible: bool) -> list[str]:
        lines = self._write_length(flexible, True, f"len({v})", out)
        elem = typ.element
        if isinstance(elem, type):
            _, enc = self.gen.struct_functions(elem)
            return [*lines, f"for x in {v}: {enc}(x, {out})"]
        if elem.family == "fixed":
            return [*lines, f"{out} += _pack('>%d{elem.fmt}' % len({v}), *{v})"]  # type: ignore[attr-defined]
        prim = self.gen.const(self._element_primitive(elem, flexible), "_P")
        return [*lines, f"for x in {v}: {prim}.encode(x, {out})"]

    def encode_tags(self, tagged: list[FieldSpec]) -> list[str]:
        if not tagged:
            return [
                "    u = o.unknown_tagged_fields",
                "    if u: _wtags(out, sorted(u.items()))",
                "    else: out.append(0)",
            ]
        lines = ["    tags = []"]
        for spec in sorted(tagged, key=lambda s: s.tag or 0):
            lines += [
                f"    v = o.{spec.name}",
                f"    if {self.differs(spec, 'v')}:",
                "        t = bytearray()",
                *_indent(self.encode_field(spec, "v", "t", flexible=True), 4),
                f"        tags.append(({spec.tag}, t))",
            ]
        return [
            *lines,
            "    u = o.unknown_tagged_fields",
            "    if u:",
            "        tags.extend(u.items())",
            "        tags.sort()",
            "    _wtags(out, tags)",
        ]
