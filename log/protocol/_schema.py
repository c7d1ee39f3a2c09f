"""The declarative schema language: each Kafka message declared once as a class.

A declaration is an ordinary class whose attributes are :func:`F` field
specifications, in wire order. Version ranges are written the way Kafka's
message JSON writes them (``"0+"``, ``"3-7"``, ``"5"``, ``"none"``) and are
always versions of the enclosing *message*, also inside nested structs::

    class PartitionProduceData(Struct):
        index: int = F(INT32)
        records: bytes | None = F(RECORDS, nullable_versions="0+")

    class ProduceRequest(Request, api_key=0, valid_versions=(0, 11), flexible_versions=9):
        transactional_id: str | None = F(
            STRING, versions="3+", nullable_versions="3+", default=None
        )
        acks: int = F(INT16)
        topic_data: list[TopicProduceData] = F(array(TopicProduceData))

The annotations are for mypy (the classes are dataclass-like through
``dataclass_transform``, keyword-only); the :func:`F` calls carry everything
the compiler needs. Codecs are compiled lazily, once per (message, version).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Self, dataclass_transform

from tidal.log.protocol._types import DEFAULT_LIMITS, Buffer, DecodeLimits, Primitive

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = [
    "ArrayOf",
    "F",
    "FieldSpec",
    "Message",
    "Request",
    "Response",
    "Struct",
    "VersionRange",
    "array",
]

#: Inclusive (low, high) message versions; ``high`` is open-ended as ``MAX_VERSION``.
VersionRange = tuple[int, int]
MAX_VERSION = 0x7FFF
_MISSING: Any = object()
_RANGE = re.compile(r"^(\d+)(?:(\+)|-(\d+))?$")


def parse_versions(spec: str) -> VersionRange | None:
    """Parse ``"3+"``, ``"0-4"``, ``"5"`` or ``"none"`` (None) into a range."""
    if spec == "none":
        return None
    m = _RANGE.match(spec)
    if m is None:
        raise ValueError(f"bad version range {spec!r}")
    low = int(m.group(1))
    high = MAX_VERSION if m.group(2) else int(m.group(3) or low)
    if high < low:
        raise ValueError(f"empty version range {spec!r}")
    return low, high


def in_range(version: int, versions: VersionRange | None) -> bool:
    return versions is not None and versions[0] <= version <= versions[1]


@dataclass(frozen=True)
class ArrayOf:
    """An array field type: of a primitive or of a nested :class:`Struct`."""

    element: Primitive[Any] | type[Struct]


def array(element: Primitive[Any] | type[Struct]) -> ArrayOf:
    """The type of an array field: ``F(array(INT32))``, ``F(array(Partition))``."""
    return ArrayOf(element)


FieldType = Primitive[Any] | ArrayOf | type["Struct"]


class FieldSpec:
    """One declared field; made by :func:`F`, completed by the class it sits in."""

    __slots__ = (
        "default",
        "default_factory",
        "has_default",
        "ignorable",
        "name",
        "nullable_versions",
        "tag",
        "tagged_versions",
        "type",
        "versions",
    )

    def __init__(
        self,
        type_: FieldType,
        versions: str,
        nullable_versions: str | None,
        tag: int | None,
        tagged_versions: str | None,
        ignorable: bool,
        default: Any,
        default_factory: Callable[[], Any] | None,
    ) -> None:
        self.name = ""
        self.type = type_
        self.versions = parse_versions(versions)
        if nullable_versions is None and getattr(type_, "nullable", False):
            nullable_versions = versions  # NULLABLE_STRING & co. are nullable wherever present
        self.nullable_versions = parse_versions(nullable_versions or "none")
        self.tag = tag
        self.tagged_versions = parse_versions(tagged_versions or "none")
        if (tag is None) != (self.tagged_versions is None):
            raise TypeError("a tagged field needs both tag= and tagged_versions=")
        self.ignorable = ignorable
        if isinstance(default, list | dict | bytearray):
            raise TypeError("use default_factory= for a mutable default")
        self.has_default = default is not _MISSING or default_factory is not None
        self.default_factory = default_factory
        self.default = default if default is not _MISSING else self._type_default()

    def _type_default(self) -> Any:
        if self.default_factory is not None:
            return None
        if isinstance(self.type, ArrayOf):
            return None if self.nullable_versions else _EMPTY
        if isinstance(self.type, type):
            return None
        return self.type.default if not self.nullable_versions else self._non_null_default()

    def _non_null_default(self) -> Any:
        family = self.type.family if isinstance(self.type, Primitive) else ""
        return {"string": "", "bytes": b""}.get(family)

    def absent_value(self) -> Any:
        """A fresh copy of the value this field has in versions that lack it."""
        if self.default_factory is not None:
            return self.default_factory()
        if self.default is _EMPTY:
            return []
        return self.default


class _Empty:
    """The default of an array field: a fresh empty list each time."""

    def __repr__(self) -> str:
        return "[]"

    def __eq__(self, other: object) -> bool:
        return other == [] or isinstance(other, _Empty)

    def __hash__(self) -> int:
        return 0


_EMPTY: Any = _Empty()


def F(  # noqa: N802 - a one-letter marker keeps declarations readable
    type_: FieldType,
    *,
    versions: str = "0+",
    nullable_versions: str | None = None,
    tag: int | None = None,
    tagged_versions: str | None = None,
    ignorable: bool = False,
    default: Any = _MISSING,
    default_factory: Callable[[], Any] | None = None,
) -> Any:
    """Declare a field of a :class:`Struct` or :class:`Message`.

    ``versions``: the message versions that carry the field. ``nullable_versions``:
    where it may be null (NULLABLE_* types default to all of ``versions``).
    ``tag``/``tagged_versions``: a KIP-482 tagged field, written only when it
    differs from its default. ``ignorable``: encoding a version without the
    field silently drops a non-default value instead of raising. ``default`` /
    ``default_factory``: the value in versions without the field (and the
    constructor default); without them the type's zero value is used there and
    the constructor requires the argument.
    """
    return FieldSpec(
        type_,
        versions,
        nullable_versions,
        tag,
        tagged_versions,
        ignorable,
        default,
        default_factory,
    )


@dataclass_transform(kw_only_default=True, field_specifiers=(F,))
class Struct:
    """Base of declared structs: keyword-only constructor, equality, repr.

    Tagged fields a decoder does not know are kept (raw) and written back on
    encode, so a message passes through unchanged.
    """

    fields: ClassVar[tuple[FieldSpec, ...]] = ()
    #: Raw ``{tag: payload}`` of tagged fields unknown to this declaration.
    unknown_tagged_fields: dict[int, bytes] | None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        specs = []
        for name, value in list(vars(cls).items()):
            if isinstance(value, FieldSpec):
                value.name = name
                specs.append(value)
                delattr(cls, name)
        cls.fields = tuple(specs)
        _install_init(cls)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, f.name) == getattr(other, f.name) for f in self.fields) and (
            self.unknown_tagged_fields or None
        ) == (other.unknown_tagged_fields or None)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        body = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in self.fields)
        return f"{type(self).__name__}({body})"


def _install_init(cls: type[Struct]) -> None:
    """Give ``cls`` a generated keyword-only ``__init__`` (dataclass style)."""
    args, body = [], []
    env: dict[str, Any] = {"_MISSING": _MISSING}
    for i, spec in enumerate(cls.fields):
        if spec.default_factory is not None:
            env[f"_f{i}"] = spec.default_factory
            args.append(f"{spec.name}=_MISSING")
            body.append(
                f"    self.{spec.name} = _f{i}() if {spec.name} is _MISSING else {spec.name}"
            )
            continue
        if spec.has_default:
            env[f"_d{i}"] = spec.default
            args.append(f"{spec.name}=_d{i}")
        else:
            args.append(spec.name)
        body.append(f"    self.{spec.name} = {spec.name}")
    star = "*, " if args else ""
    body = body or ["    pass"]
    source = f"def __init__(self, {star}{', '.join(args)}):\n" + "\n".join(body)
    exec(source, env)  # noqa: S102 - source built from declared field names only
    init = env["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    cls.__init__ = init  # type: ignore[method-assign]


# Set outside the class body so that dataclass_transform does not take it for
# a field; decoded objects only get an instance value when unknown tags appear.
Struct.unknown_tagged_fields = None


class Message(Struct):
    """Base of top-level request and response declarations.

    Class keywords: ``api_key``, ``valid_versions`` (inclusive pair) and
    ``flexible_versions`` (first flexible version, or None for never).
    """

    api_key: ClassVar[int] = -1
    valid_versions: ClassVar[VersionRange] = (0, 0)
    flexible_from: ClassVar[int | None] = None
    _codecs: ClassVar[dict[tuple[int, DecodeLimits], Any]]

    def __init_subclass__(
        cls,
        *,
        api_key: int = -1,
        valid_versions: VersionRange = (0, 0),
        flexible_versions: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init_subclass__(**kwargs)
        cls.api_key = api_key
        cls.valid_versions = valid_versions
        cls.flexible_from = flexible_versions
        cls._codecs = {}

    @classmethod
    def is_flexible(cls, version: int) -> bool:
        """Whether ``version`` uses compact encodings and tagged fields."""
        return cls.flexible_from is not None and version >= cls.flexible_from

    @classmethod
    def supports(cls, version: int) -> bool:
        return cls.valid_versions[0] <= version <= cls.valid_versions[1]

    def encode(self, version: int) -> bytes:
        """The body of this message in ``version`` (no header, no length)."""
        out = bytearray()
        self.encode_into(out, version)
        return bytes(out)

    def encode_into(self, out: bytearray, version: int) -> None:
        """Append the body of this message in ``version`` to ``out``."""
        from tidal.log.protocol._compiler import codec_for  # noqa: PLC0415 - cycle

        codec_for(type(self), version, DEFAULT_LIMITS).encode(self, out)

    @classmethod
    def decode(
        cls,
        data: Buffer,
        version: int,
        limits: DecodeLimits = DEFAULT_LIMITS,
        pos: int = 0,
        *,
        exact: bool = True,
    ) -> Self:
        """Decode a body of ``version`` from ``data[pos:]``, which it must fill
        exactly unless ``exact`` is false (then trailing bytes are ignored)."""
        from tidal.log.protocol._compiler import codec_for  # noqa: PLC0415 - cycle

        result: Self = codec_for(cls, version, limits).decode(data, pos, exact=exact)
        return result


class Request(Message):
    """Base of request declarations."""


class Response(Message):
    """Base of response declarations."""
