"""``tidal demo``: a streams pipeline end to end, on an embedded broker, nothing to set up.

1. An :class:`~tidal.streams.App` starts with no bootstrap servers, so it runs
   its own broker with the log under the state directory.
2. A generator writes ``--records`` orders (a fixed seed) to ``orders``, keyed
   by user, while the app processes them.
3. The topology keeps, in RocksDB stores backed by changelog topics, each
   user's order count and total (``user-totals``) and, re-keyed by category
   through a repartition topic, each category's (``category-totals``); every
   update goes to an output topic of the same name.
4. When every order went through both aggregates, the outputs are read back
   from their topics, the stores are queried locally (``app.store(...)``),
   and both are checked against totals computed from the generated orders.

Exits 0 with "verified", or 1 naming the keys that disagree.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

__all__ = ["Order", "Totals", "demo", "expected_totals", "generate_orders"]

APPLICATION_ID = "tidal-demo"
ORDERS = "orders"
USER_TOTALS = "user-totals"
CATEGORY_TOTALS = "category-totals"
CATEGORIES = (
    "books", "games", "garden", "grocery", "kitchen", "music", "outdoor", "toys",
)  # fmt: skip
_YIELD_EVERY = 500  # produced records between chances for the app to process


@dataclass(frozen=True, slots=True)
class Order:
    """One generated order; amounts in cents, so totals are exact."""

    order_id: int
    user: str
    category: str
    amount_cents: int

    def to_json(self) -> dict[str, Any]:
        """The record value written to ``orders``."""
        return {
            "order_id": self.order_id,
            "user": self.user,
            "category": self.category,
            "amount_cents": self.amount_cents,
        }


@dataclass(slots=True)
class Totals:
    """Orders and cents summed per key: what the topology should end with."""

    users: dict[str, tuple[int, int]] = field(default_factory=dict)
    categories: dict[str, tuple[int, int]] = field(default_factory=dict)


def generate_orders(records: int, users: int, seed: int) -> Iterator[Order]:
    """``records`` orders from ``users`` users, the same for the same seed.

    A few users order far more than the rest (a Zipf-like skew), so the top of
    the table means something.
    """
    rng = random.Random(seed)
    names = [f"user-{i:04d}" for i in range(users)]
    weights = [1.0 / (rank + 1) for rank in range(users)]
    rng.shuffle(names)
    picks = rng.choices(names, weights=weights, k=records)
    for order_id, user in enumerate(picks):
        yield Order(order_id, user, rng.choice(CATEGORIES), rng.randint(100, 20_000))


def expected_totals(orders: Iterator[Order]) -> Totals:
    """Count and sum the orders per user and per category, without Tidal."""
    users: dict[str, list[int]] = {}
    categories: dict[str, list[int]] = {}
    for order in orders:
        for table, key in ((users, order.user), (categories, order.category)):
            entry = table.setdefault(key, [0, 0])
            entry[0] += 1
            entry[1] += order.amount_cents
    return Totals(
        {k: (n, c) for k, (n, c) in users.items()},
        {k: (n, c) for k, (n, c) in categories.items()},
    )


# ---- the app -------------------------------------------------------------------------


class _Progress:
    """How far the pipeline got: counted by the aggregators themselves."""

    def __init__(self) -> None:
        self.produced = 0
        self.per_user = 0
        self.per_category = 0
        self.first_processed_at: float | None = None


def _initial() -> dict[str, int]:
    return {"orders": 0, "cents": 0}


def build_app(state_dir: Path, partitions: int, counts: _Progress) -> Any:
    """The demo's App: per-user and per-category totals, both into RocksDB."""
    from tidal.streams import App  # noqa: PLC0415  (keeps `tidal --help` fast)

    app = App(
        APPLICATION_ID,
        state_dir=state_dir,
        commit_interval_ms=1_000,
        broker_config={"num.partitions": partitions},
    )

    def add_user(_user: str, order: dict[str, Any], total: dict[str, int]) -> dict[str, int]:
        if counts.first_processed_at is None:
            counts.first_processed_at = time.perf_counter()
        counts.per_user += 1
        return {"orders": total["orders"] + 1, "cents": total["cents"] + order["amount_cents"]}

    def add_category(
        _category: str, order: dict[str, Any], total: dict[str, int]
    ) -> dict[str, int]:
        counts.per_category += 1
        return {"orders": total["orders"] + 1, "cents": total["cents"] + order["amount_cents"]}

    orders = app.stream(ORDERS, key_serde="str", value_serde="json")
    (
        orders.group_by_key()
        .aggregate(_initial, add_user, USER_TOTALS, value_serde="json")
        .to_stream()
        .to(USER_TOTALS, key_serde="str", value_serde="json")
    )
    (
        orders.group_by(lambda _user, order: order["category"], key_serde="str", name="by-category")
        .aggregate(_initial, add_category, CATEGORY_TOTALS, value_serde="json")
        .to_stream()
        .to(CATEGORY_TOTALS, key_serde="str", value_serde="json")
    )
    return app


async def _produce(app: Any, orders: Iterator[Order], counts: _Progress) -> None:
    import orjson  # noqa: PLC0415

    from tidal.log.client.producer import Producer  # noqa: PLC0415

    async with Producer(bootstrap_servers=app.bootstrap_servers, linger_ms=5) as producer:
        for order in orders:
            await producer.send(ORDERS, orjson.dumps(order.to_json()), order.user.encode())
            counts.produced += 1
            if counts.produced % _YIELD_EVERY == 0:
                await asyncio.sleep(0)
        await producer.flush()


async def _read_back(bootstrap: str, topic: str, expected: int, timeout: float) -> Any:
    """Every record of ``topic``: the number read and the last value per key.

    Reads at least ``expected`` records, then on to the end offsets once they
    stay put between two polls (the app's last outputs may still be on their
    way), or until ``timeout`` seconds passed."""
    import orjson  # noqa: PLC0415

    from tidal.log.client.consumer import Consumer, TopicPartition  # noqa: PLC0415

    latest: dict[str, dict[str, int]] = {}
    read = 0
    async with Consumer(bootstrap_servers=bootstrap, enable_auto_commit=False) as consumer:
        partitions = [TopicPartition(topic, p) for p in await _partitions(bootstrap, topic)]
        consumer.assign(partitions)
        consumer.seek_to_beginning()
        deadline = time.monotonic() + timeout
        ends: dict[TopicPartition, int] = {}
        while time.monotonic() < deadline:
            for records in (await consumer.getmany(timeout_ms=200)).values():
                read += len(records)
                for record in records:
                    latest[record.key.decode()] = orjson.loads(record.value)
            if read < expected:
                continue
            now = await consumer.end_offsets(partitions)
            positions = {tp: await consumer.position(tp) for tp in partitions}
            if now == ends and all(positions[tp] >= end for tp, end in ends.items()):
                break
            ends = now
    return read, latest


async def _create_topics(bootstrap: str, names: list[str], partitions: int) -> None:
    from tidal.log.client.admin import AdminClient, NewTopic  # noqa: PLC0415

    async with AdminClient(bootstrap_servers=bootstrap) as admin:
        await admin.create_topics([NewTopic(name, partitions) for name in names])


async def _partitions(bootstrap: str, topic: str) -> list[int]:
    from tidal.log.client.admin import AdminClient  # noqa: PLC0415

    async with AdminClient(bootstrap_servers=bootstrap) as admin:
        described = await admin.describe_topics([topic])
    return sorted(p.partition for p in described[topic].partitions)


# ---- running it ------------------------------------------------------------------------


@dataclass(slots=True)
class Outcome:
    """What one demo run saw, for the summary."""

    records: int
    elapsed: float = 0.0
    processing: float = 0.0
    outputs: dict[str, int] = field(default_factory=dict)
    from_topics: Totals = field(default_factory=Totals)
    from_stores: Totals = field(default_factory=Totals)
    stores_entries: dict[str, int] = field(default_factory=dict)
    mismatches: list[str] = field(default_factory=list)


def _bar(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description:<30}"),
        BarColumn(bar_width=32),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


async def run_demo(
    records: int, users: int, partitions: int, seed: int, state_dir: Path, console: Console
) -> Outcome:
    """Generate, process, read back and query; the outcome (checked by the caller)."""
    outcome = Outcome(records)
    counts = _Progress()
    app = build_app(state_dir, partitions, counts)
    started = time.perf_counter()
    with console.status("starting the embedded broker and the app"):
        await app.start()
    processing: asyncio.Task[None] | None = None
    producing: asyncio.Task[None] | None = None
    try:
        console.print(f"broker on [bold]{app.bootstrap_servers}[/], state in [bold]{state_dir}[/]")
        # Output topics are the user's to create, as in Kafka Streams (the app
        # creates only its source topics on its own broker, and internal ones).
        await _create_topics(app.bootstrap_servers, [USER_TOTALS, CATEGORY_TOTALS], partitions)
        processing = asyncio.create_task(app.wait())
        producing = asyncio.create_task(
            _produce(app, generate_orders(records, users, seed), counts)
        )
        with _bar(console) as progress:
            generated = progress.add_task(f"generate → {ORDERS}", total=records)
            per_user = progress.add_task(f"aggregate → {USER_TOTALS}", total=records)
            per_category = progress.add_task(f"repartition → {CATEGORY_TOTALS}", total=records)
            while counts.per_user < records or counts.per_category < records:
                for task in (processing, producing):
                    error = task.exception() if task.done() else None
                    if error is not None:
                        raise error
                if processing.done():
                    raise click.ClickException("the app stopped before it processed every order")
                progress.update(generated, completed=counts.produced)
                progress.update(per_user, completed=counts.per_user)
                progress.update(per_category, completed=counts.per_category)
                await asyncio.sleep(0.1)
            progress.update(generated, completed=counts.produced)
            progress.update(per_user, completed=counts.per_user)
            progress.update(per_category, completed=counts.per_category)
        done = time.perf_counter()
        outcome.processing = done - (counts.first_processed_at or started)
        await producing
        app.stop()
        await processing

        with console.status("reading the output topics back"):
            for topic, target in (
                (USER_TOTALS, outcome.from_topics.users),
                (CATEGORY_TOTALS, outcome.from_topics.categories),
            ):
                read, latest = await _read_back(app.bootstrap_servers, topic, records, 60.0)
                outcome.outputs[topic] = read
                target.update({k: (v["orders"], v["cents"]) for k, v in latest.items()})
        for name, target in (
            (USER_TOTALS, outcome.from_stores.users),
            (CATEGORY_TOTALS, outcome.from_stores.categories),
        ):
            store = app.store(name)
            target.update({k: (v["orders"], v["cents"]) for k, v in store.items()})
            outcome.stores_entries[name] = store.approximate_num_entries()
    finally:
        with console.status("final commit and shutdown"):
            # Stop both tasks before closing (Ctrl-C lands here with them running):
            # the producer is cancelled, the app's wait returns after a stop.
            if producing is not None:
                producing.cancel()
            app.stop()
            running = [t for t in (producing, processing) if t is not None]
            await asyncio.gather(*running, return_exceptions=True)
            await app.close()
    outcome.elapsed = time.perf_counter() - started
    return outcome


def _compare(
    what: str, got: dict[str, tuple[int, int]], want: dict[str, tuple[int, int]]
) -> list[str]:
    return [
        f"{what} {key}: expected {want.get(key)}, got {got.get(key)}"
        for key in sorted(set(got) | set(want))
        if got.get(key) != want.get(key)
    ]


def _money(cents: int) -> str:
    return f"{cents / 100:,.2f}"


def _top_table(title: str, rows: dict[str, tuple[int, int]], label: str, top: int) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column(label)
    table.add_column("orders", justify="right")
    table.add_column("total", justify="right")
    table.add_column("average", justify="right")
    ranked = sorted(rows.items(), key=lambda item: (-item[1][1], item[0]))[:top]
    for key, (orders, cents) in ranked:
        table.add_row(key, f"{orders:,}", _money(cents), _money(cents // max(orders, 1)))
    return table


def report(outcome: Outcome, want: Totals, top: int, console: Console) -> bool:
    """Print the results and the summary; whether everything matched."""
    console.print(
        _top_table(f"top {top} users by total (topic {USER_TOTALS})", outcome.from_topics.users,
                   "user", top)
    )  # fmt: skip
    console.print(
        _top_table(
            f"categories (topic {CATEGORY_TOTALS})", outcome.from_topics.categories, "category", 99
        )
    )
    mismatches = [
        *_compare("store user-totals", outcome.from_stores.users, want.users),
        *_compare("store category-totals", outcome.from_stores.categories, want.categories),
        *_compare("topic user-totals", outcome.from_topics.users, want.users),
        *_compare("topic category-totals", outcome.from_topics.categories, want.categories),
    ]
    outcome.mismatches = mismatches
    out = sum(outcome.outputs.values())
    summary = Table.grid(padding=(0, 2))
    summary.add_column(style="bold")
    summary.add_column()
    rate = outcome.records / outcome.processing if outcome.processing > 0 else 0.0
    summary.add_row("records in", f"{outcome.records:,} orders")
    summary.add_row(
        "records out",
        f"{out:,} ({', '.join(f'{topic} {n:,}' for topic, n in outcome.outputs.items())})",
    )
    resent = out - len(outcome.outputs) * outcome.records
    if resent > 0:
        summary.add_row(
            "",
            f"of which {resent:,} updates were sent again after a rebalance (at-least-once: "
            "the last update per key is what counts)",
        )
    summary.add_row("throughput", f"{rate:,.0f} records/s (first order processed to last)")
    summary.add_row("elapsed", f"{outcome.elapsed:.1f} s (broker start to shutdown)")
    summary.add_row(
        "final state",
        f"{len(outcome.from_stores.users):,} users in store {USER_TOTALS}, "
        f"{len(outcome.from_stores.categories)} categories in store {CATEGORY_TOTALS} "
        "(local queries)",
    )
    console.print(summary)
    if mismatches:
        console.print(f"[bold red]NOT verified[/]: {len(mismatches)} disagreements, e.g.")
        for line in mismatches[:10]:
            console.print(f"  {line}")
        return False
    console.print(
        "[bold green]verified[/]: the stores and the output topics hold exactly the totals "
        "computed from the generated orders"
    )
    return True


@contextlib.contextmanager
def _state_dir(given: Path | None) -> Iterator[Path]:
    if given is not None:
        shutil.rmtree(given / APPLICATION_ID, ignore_errors=True)
        given.mkdir(parents=True, exist_ok=True)
        yield given
        return
    temp = Path(tempfile.mkdtemp(prefix="tidal-demo-"))
    try:
        yield temp
    finally:
        shutil.rmtree(temp, ignore_errors=True)


@click.command()
@click.option(
    "--records",
    type=click.IntRange(min=1),
    default=100_000,
    show_default=True,
    help="Orders to generate.",
)
@click.option(
    "--users", type=click.IntRange(min=1), default=2_000, show_default=True, help="Distinct users."
)
@click.option(
    "--partitions",
    type=click.IntRange(min=1),
    default=4,
    show_default=True,
    help="Partitions of the orders topic (tasks per sub-topology).",
)
@click.option("--seed", type=int, default=7, show_default=True, help="Seed of the generator.")
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Keep the broker's log and the stores in DIR/tidal-demo (replacing an earlier "
    "run's) instead of a temporary directory removed at the end.",
)
@click.option("--top", type=click.IntRange(min=1), default=10, show_default=True)
def demo(
    records: int, users: int, partitions: int, seed: int, state_dir: Path | None, top: int
) -> None:
    """Run a streams pipeline end to end on an embedded broker and check its result.

    Generates orders, aggregates them per user and per category (re-keyed
    through a repartition topic) in RocksDB stores, reads the results back,
    and verifies them against totals computed from the generated orders.
    """
    console = Console(width=None if sys.stdout.isatty() else 100)
    console.print(
        f"[bold]Tidal demo[/]: {records:,} orders from {users:,} users, "
        f"{partitions} partitions, seed {seed}"
    )
    want = expected_totals(generate_orders(records, users, seed))
    with _state_dir(state_dir) as where:
        try:
            outcome = asyncio.run(run_demo(records, users, partitions, seed, where, console))
        except KeyboardInterrupt:
            raise SystemExit(130) from None
    if not report(outcome, want, top, console):
        raise SystemExit(1)
