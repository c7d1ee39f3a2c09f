"""``tidal transactions``: list and describe the transactional ids a cluster knows.

Like ``kafka-transactions.sh list`` and ``describe``: ``list`` asks every
broker (ListTransactions) and can filter by state, producer id or how long a
transaction has been open; ``describe ID`` asks the id's transaction
coordinator (DescribeTransactions) for its state, producer id and epoch,
timeout, start time and partitions.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import click

from tidal.cli._common import CliError, connection, connection_options, print_table, run
from tidal.log.client._config import ClientConfig
from tidal.log.client._coordinators import CoordinatorType
from tidal.log.client._kernel import Kernel
from tidal.log.protocol.errors import error_for_code
from tidal.log.protocol.messages import (
    DescribeTransactionsRequest,
    ListTransactionsRequest,
)

__all__ = ["transactions"]

TRANSACTIONAL_ID_NOT_FOUND = 105

#: Kafka's transaction states, the names ListTransactions filters by.
TRANSACTION_STATES = (
    "Empty",
    "Ongoing",
    "PrepareCommit",
    "PrepareAbort",
    "CompleteCommit",
    "CompleteAbort",
    "Dead",
    "PrepareEpochFence",
)


class _StateType(click.ParamType[str]):
    """One of ``TRANSACTION_STATES``, in any case; a bad name is a usage error."""

    name = "state"

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "STATE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        for state in TRANSACTION_STATES:
            if str(value).lower() == state.lower():
                return state
        raise click.BadParameter(
            f"{value!r} is not a transaction state: {', '.join(TRANSACTION_STATES)}.", ctx, param
        )


@asynccontextmanager
async def _kernel() -> AsyncIterator[Kernel]:
    kernel = Kernel(ClientConfig.build(None, **connection().client_settings()))
    await kernel.start()
    try:
        yield kernel
    finally:
        await kernel.close()


def _check(code: int, what: str) -> None:
    if code:
        raise CliError(f"{what}: {error_for_code(code).__name__} (error {code})")


@click.group()
def transactions() -> None:
    """List and describe transactions (transactional ids)."""


@transactions.command("list")
@click.option(
    "--state",
    "states",
    multiple=True,
    type=_StateType(),
    help=f"Only these states (repeatable): {', '.join(TRANSACTION_STATES)}.",
)
@click.option("--producer-id", "producer_ids", multiple=True, type=int, help="Only these ids.")
@click.option(
    "--duration-ms", type=int, default=-1, help="Only transactions open at least this long."
)
@connection_options
def list_(states: tuple[str, ...], producer_ids: tuple[int, ...], duration_ms: int) -> None:
    """List transactional ids with their producer id and state."""

    async def main() -> list[list[object]]:
        async with _kernel() as kernel:
            md = await kernel.fetch_metadata([])

            def build(version: int) -> ListTransactionsRequest:
                if duration_ms >= 0 and version < 1:
                    raise CliError("the broker cannot filter by duration (ListTransactions v0)")
                return ListTransactionsRequest(
                    state_filters=list(states),
                    producer_id_filters=list(producer_ids),
                    duration_filter=duration_ms,
                )

            responses = await asyncio.gather(
                *(kernel.send(node, ListTransactionsRequest, build) for node in md.nodes)
            )
        rows: list[list[object]] = []
        for node, response in zip(md.nodes, responses, strict=True):
            _check(response.error_code, f"broker {node}")
            if response.unknown_state_filters:
                unknown = ", ".join(response.unknown_state_filters)
                raise CliError(f"unknown transaction state(s): {unknown}")
            rows += [
                [t.transactional_id, node, t.producer_id, t.transaction_state]
                for t in response.transaction_states
            ]
        return sorted(rows, key=lambda r: str(r[0]))

    rows = run(main())
    print_table(["Transactional id", "Coordinator", "Producer id", "State"], rows)


def _started(ms: int) -> str | None:
    if ms < 0:
        return None
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")


@transactions.command()
@click.argument("transactional_id")
@connection_options
def describe(transactional_id: str) -> None:
    """Show TRANSACTIONAL_ID's state, producer, timeout and partitions."""

    async def main() -> tuple[int, Any]:
        def code(response: Any) -> int:
            states = response.transaction_states
            return int(states[0].error_code) if states else 0

        async with _kernel() as kernel:
            node = await kernel.coordinator(transactional_id, CoordinatorType.TRANSACTION)
            response = await kernel.send_to_coordinator(
                transactional_id,
                DescribeTransactionsRequest,
                DescribeTransactionsRequest(transactional_ids=[transactional_id]),
                key_type=CoordinatorType.TRANSACTION,
                error_code=code,
            )
        return node, response.transaction_states[0]

    node, state = run(main())
    if state.error_code == TRANSACTIONAL_ID_NOT_FOUND:
        raise CliError(f"transactional id '{transactional_id}' does not exist")
    _check(state.error_code, f"transactional id '{transactional_id}'")
    partitions = ", ".join(f"{t.topic}-{p}" for t in state.topics for p in sorted(t.partitions))
    print_table(
        [
            "Coordinator",
            "Transactional id",
            "Producer id",
            "Producer epoch",
            "State",
            "Timeout ms",
            "Started",
            "Partitions",
        ],
        [
            [
                node,
                transactional_id,
                state.producer_id,
                state.producer_epoch,
                state.transaction_state,
                state.transaction_timeout_ms,
                _started(state.transaction_start_time_ms),
                partitions or None,
            ]
        ],
    )
