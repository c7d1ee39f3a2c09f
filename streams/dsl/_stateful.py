"""Processor factories of tables and aggregations.

Table nodes pass *changes* down the chain: the value a table node forwards is
the pair ``(new, old)`` (Kafka Streams' ``Change``), where ``new`` is the
key's value after the update (None: deleted) and ``old`` its value before
(None: absent). Aggregations keep one value per key in a store; the store
holds ``key_serde`` bytes of the key and ``value_serde`` bytes of the value.

Aggregations stamp their output with the timestamp of the record that caused
the update (Kafka Streams uses the largest timestamp seen for the key; for
running aggregates the difference only shows with out-of-order input).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import msgpack

from tidal.streams._contract import Headers
from tidal.streams.topology import Emit, NodeContext, ProcessorFactory, fanout

__all__ = [
    "Adder",
    "change_pair_deserializer",
    "change_pair_serializer",
    "stream_aggregate",
    "table_aggregate",
    "table_filter",
    "table_map_values",
    "table_regroup",
    "table_source",
    "table_to_stream",
]

#: ``fn(key, value, aggregate_or_None) -> new aggregate``.
Adder = Callable[[Any, Any, Any], Any]


def stream_aggregate(store: str, key_serde: Any, value_serde: Any, add: Adder) -> ProcessorFactory:
    """Fold each record into its key's aggregate; forward ``(new, old)``.

    Records with a None key or value are dropped, as in Kafka Streams.
    """

    def factory(ctx: NodeContext, children: Sequence[Emit]) -> Emit:
        kv = ctx.store(store)
        get, put = kv.get, kv.put
        kser, vser, vde = key_serde.serialize, value_serde.serialize, value_serde.deserialize
        emit = fanout(children)

        def run(value: Any, key: Any, timestamp: int, headers: Headers) -> None:
            if key is None or value is None:
                return
            kb = kser(key)
            old = vde(get(kb))
            new = add(key, value, old)
            put(kb, vser(new))
            emit((new, old), key, timestamp, headers)

        return run

    return factory


def table_aggregate(
    store: str, key_serde: Any, value_serde: Any, add: Adder, subtract: Adder
) -> ProcessorFactory:
    """Apply a regrouped table change: subtract the old value, add the new one."""

    def factory(ctx: NodeContext, children: Sequence[Emit]) -> Emit:
        kv = ctx.store(store)
        get, put, delete = kv.get, kv.put, kv.delete
        kser, vser, vde = key_serde.serialize, value_serde.serialize, value_serde.deserialize
        emit = fanout(children)

        def run(change: Any, key: Any, timestamp: int, headers: Headers) -> None:
            if key is None:
                return
            new, old = change
            kb = kser(key)
            old_agg = agg = vde(get(kb))
            if old is not None:
                agg = subtract(key, old, agg)
            if new is not None:
                agg = add(key, new, agg)
            if agg is None:
                delete(kb)
            else:
                put(kb, vser(agg))
            emit((agg, old_agg), key, timestamp, headers)

        return run

    return factory


def table_source(store: str, key_serde: Any, value_serde: Any) -> ProcessorFactory:
    """Materialize a topic as a table; forward ``(new, old)`` per update.

    A None value deletes the key. Records with a None key are dropped; a
    delete of an absent key forwards nothing.
    """

    def factory(ctx: NodeContext, children: Sequence[Emit]) -> Emit:
        kv = ctx.store(store)
        get, put, delete = kv.get, kv.put, kv.delete
        kser, vser, vde = key_serde.serialize, value_serde.serialize, value_serde.deserialize
        emit = fanout(children)

        def run(value: Any, key: Any, timestamp: int, headers: Headers) -> None:
            if key is None:
                return
            kb = kser(key)
            old_bytes = get(kb)
            if value is None:
                if old_bytes is None:
                    return
                delete(kb)
            else:
                put(kb, vser(value))
            emit((value, vde(old_bytes)), key, timestamp, headers)

        return run

    return factory


def table_filter(predicate: Callable[[Any, Any], Any], *, keep: bool) -> ProcessorFactory:
    """Keep the sides of a change that pass; a key leaving the table becomes a tombstone."""

    def factory(ctx: NodeContext, children: Sequence[Emit]) -> Emit:
        emit = fanout(children)

        def run(change: Any, key: Any, timestamp: int, headers: Headers) -> None:
            new, old = change
            if new is not None and bool(predicate(key, new)) is not keep:
                new = None
            if old is not None and bool(predicate(key, old)) is not keep:
                old = None
            if new is None and old is None:
                return
            emit((new, old), key, timestamp, headers)

        return run

    return factory


def table_map_values(fn: Callable[[Any], Any]) -> ProcessorFactory:
    """Map both sides of a change; None (absent) stays None."""

    def factory(ctx: NodeContext, children: Sequence[Emit]) -> Emit:
        emit = fanout(children)

        def run(change: Any, key: Any, timestamp: int, headers: Headers) -> None:
            new, old = change
            emit(
                (None if new is None else fn(new), None if old is None else fn(old)),
                key,
                timestamp,
                headers,
            )

        return run

    return factory


def table_to_stream() -> ProcessorFactory:
    """Forward the new side of each change: the table's update stream, tombstones included."""

    def factory(ctx: NodeContext, children: Sequence[Emit]) -> Emit:
        emit = fanout(children)

        def run(change: Any, key: Any, timestamp: int, headers: Headers) -> None:
            emit(change[0], key, timestamp, headers)

        return run

    return factory


def table_regroup(selector: Callable[[Any, Any], tuple[Any, Any]]) -> ProcessorFactory:
    """Re-key a table's changes for a regrouping aggregation.

    The old value goes to its old group as ``(None, old)`` (to subtract), the
    new one to its new group as ``(new, None)`` (to add); when both land on
    the same group they travel as one record ``(new, old)``.
    """

    def factory(ctx: NodeContext, children: Sequence[Emit]) -> Emit:
        emit = fanout(children)

        def run(change: Any, key: Any, timestamp: int, headers: Headers) -> None:
            new, old = change
            if old is not None:
                old_key, old_value = selector(key, old)
                if new is not None:
                    new_key, new_value = selector(key, new)
                    if new_key == old_key:
                        emit((new_value, old_value), new_key, timestamp, headers)
                        return
                    emit((None, old_value), old_key, timestamp, headers)
                    emit((new_value, None), new_key, timestamp, headers)
                    return
                emit((None, old_value), old_key, timestamp, headers)
            elif new is not None:
                new_key, new_value = selector(key, new)
                emit((new_value, None), new_key, timestamp, headers)

        return run

    return factory


def change_pair_serializer(value_serde: Any) -> Callable[[Any], bytes | None]:
    """Bytes of a ``(new, old)`` change for a repartition topic: msgpack of two byte strings."""
    vser = value_serde.serialize
    packb = msgpack.packb

    def serialize(change: Any) -> bytes | None:
        data: bytes = packb((vser(change[0]), vser(change[1])))
        return data

    return serialize


def change_pair_deserializer(value_serde: Any) -> Callable[[bytes | None], Any]:
    """Read back what :func:`change_pair_serializer` wrote, as ``(new, old)``."""
    vde = value_serde.deserialize
    unpackb = msgpack.unpackb

    def deserialize(data: bytes | None) -> Any:
        if data is None:
            return (None, None)
        new, old = unpackb(data)
        return (vde(new), vde(old))

    return deserialize
