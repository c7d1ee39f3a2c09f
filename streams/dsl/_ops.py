"""Processor factories of the stateless stream operations.

Each function takes the user's callable and returns a
:class:`~tidal.streams.topology.ProcessorFactory`; the factory runs once per
task and returns the closure a record goes through. User callables receive
``(key, value)`` in Kafka Streams' order; the chain's own signature is
``(value, key, timestamp, headers)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from tidal.streams._contract import Headers
from tidal.streams.topology import Emit, NodeContext, ProcessorFactory, fanout

__all__ = [
    "branch",
    "filter_records",
    "flat_map",
    "flat_map_values",
    "foreach",
    "map_records",
    "map_values",
    "passthrough",
    "peek",
    "select_key",
]

KeyValueMapper = Callable[[Any, Any], Any]


def map_records(fn: Callable[[Any, Any], tuple[Any, Any]]) -> ProcessorFactory:
    """``fn(key, value) -> (new_key, new_value)``."""

    def factory(ctx: NodeContext, children: Sequence[Emit]) -> Emit:
        emit = fanout(children)

        def run(value: Any, key: Any, timestamp: int, headers: Headers) -> None:
            new_key, new_value = fn(key, value)
            emit(new_value, new_key, timestamp, headers)

        return run

    return factory


def map_values(fn: Callable[[Any], Any]) -> ProcessorFactory:
    """``fn(value) -> new_value``."""

    def factory(ctx: NodeContext, children: Sequence[Emit]) -> Emit:
        emit = fanout(children)

        def run(value: Any, key: Any, timestamp: int, headers: Headers) -> None:
            emit(fn(value), key, timestamp, headers)

        return run

    return factory


def filter_records(predicate: KeyValueMapper, *, keep: bool) -> ProcessorFactory:
    """Forward records for which ``bool(predicate(key, value)) == keep``."""

    def factory(ctx: NodeContext, children: Sequence[Emit]) -> Emit:
        emit = fanout(children)
        if keep:

            def run(value: Any, key: Any, timestamp: int, headers: Headers) -> None:
                if predicate(key, value):
                    emit(value, key, timestamp, headers)

            return run

        def run_not(value: Any, key: Any, timestamp: int, headers: Headers) -> None:
            if not predicate(key, value):
                emit(value, key, timestamp, headers)

        return run_not

    return factory


def flat_map(fn: Callable[[Any, Any], Iterable[tuple[Any, Any]]]) -> ProcessorFactory:
    """``fn(key, value) -> iterable of (new_key, new_value)``."""

    def factory(ctx: NodeContext, children: Sequence[Emit]) -> Emit:
        emit = fanout(children)

        def run(value: Any, key: Any, timestamp: int, headers: Headers) -> None:
            for new_key, new_value in fn(key, value):
                emit(new_value, new_key, timestamp, headers)

        return run

    return factory


def flat_map_values(fn: Callable[[Any], Iterable[Any]]) -> ProcessorFactory:
    """``fn(value) -> iterable of new values``."""

    def factory(ctx: NodeContext, children: Sequence[Emit]) -> Emit:
        emit = fanout(children)

        def run(value: Any, key: Any, timestamp: int, headers: Headers) -> None:
            for new_value in fn(value):
                emit(new_value, key, timestamp, headers)

        return run

    return factory


def peek(fn: KeyValueMapper) -> ProcessorFactory:
    """Call ``fn(key, value)`` and forward the record unchanged."""

    def factory(ctx: NodeContext, children: Sequence[Emit]) -> Emit:
        emit = fanout(children)

        def run(value: Any, key: Any, timestamp: int, headers: Headers) -> None:
            fn(key, value)
            emit(value, key, timestamp, headers)

        return run

    return factory


def foreach(fn: KeyValueMapper) -> ProcessorFactory:
    """Call ``fn(key, value)``; a terminal operation."""

    def factory(ctx: NodeContext, children: Sequence[Emit]) -> Emit:
        def run(value: Any, key: Any, timestamp: int, headers: Headers) -> None:
            fn(key, value)

        return run

    return factory


def select_key(fn: KeyValueMapper) -> ProcessorFactory:
    """``fn(key, value) -> new_key``."""

    def factory(ctx: NodeContext, children: Sequence[Emit]) -> Emit:
        emit = fanout(children)

        def run(value: Any, key: Any, timestamp: int, headers: Headers) -> None:
            emit(value, fn(key, value), timestamp, headers)

        return run

    return factory


def passthrough() -> ProcessorFactory:
    """Forward every record unchanged (merge points and branch children)."""

    def factory(ctx: NodeContext, children: Sequence[Emit]) -> Emit:
        return fanout(children)

    return factory


def branch(predicates: Sequence[KeyValueMapper], *, has_default: bool) -> ProcessorFactory:
    """Send each record to the child of the first predicate it satisfies.

    The children are one per predicate in order, then the default branch when
    ``has_default``; a record no predicate takes goes there or nowhere.
    """
    preds = tuple(predicates)

    def factory(ctx: NodeContext, children: Sequence[Emit]) -> Emit:
        routes = tuple(zip(preds, children, strict=False))
        default = children[len(preds)] if has_default else None

        def run(value: Any, key: Any, timestamp: int, headers: Headers) -> None:
            for predicate, child in routes:
                if predicate(key, value):
                    child(value, key, timestamp, headers)
                    return
            if default is not None:
                default(value, key, timestamp, headers)

        return run

    return factory
