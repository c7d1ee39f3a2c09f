"""``processing_guarantee="exactly_once_v2"`` on the embedded broker: outputs,
changelogs and offsets commit in one transaction; an abort rolls back and
reprocesses; a restarted instance fences its zombie."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from tests.streams.runtime._helpers import (
    BROKER_CONFIG,
    committed,
    count_app,
    create_topic,
    produce,
    wait_for,
)
from tests.streams.runtime._topology import INPUT, OUTPUT
from tidal.log.broker import EmbeddedBroker
from tidal.log.client.admin import AdminClient
from tidal.log.client.consumer import Consumer, ConsumerRecord, TopicPartition
from tidal.log.client.producer import Producer, TransactionAbortableError, murmur2_partition
from tidal.log.protocol.errors import NotEnoughReplicasError
from tidal.streams.runtime import App, AppConfig, InstanceFencedError
from tidal.streams.runtime._runtime import StreamsRuntime

WORDS = [b"apple", b"pear", b"fig", b"plum", b"kiwi", b"lime"]
CHANGELOG = "wc-counts-changelog"


def words(rounds: int) -> list[tuple[bytes, bytes]]:
    return [(w, b"x") for _ in range(rounds) for w in WORDS]


@pytest.fixture
async def broker(tmp_path: Path) -> AsyncIterator[str]:
    config = {**BROKER_CONFIG, "transaction.abort.timed.out.transaction.cleanup.interval.ms": "200"}
    async with EmbeddedBroker(data_dir=tmp_path / "broker", config=config) as b:
        await create_topic(b.bootstrap_servers, INPUT, 3)
        yield b.bootstrap_servers


def eos_app(broker: str, state_dir: Path, **kwargs: Any) -> App:
    return count_app(broker, state_dir, processing_guarantee="exactly_once_v2", **kwargs)


async def read(bootstrap: str, topic: str, isolation: str) -> list[ConsumerRecord]:
    """Every record of ``topic`` up to its end as ``isolation`` sees it."""
    async with (
        Consumer(
            bootstrap_servers=bootstrap, auto_offset_reset="earliest", isolation_level=isolation
        ) as consumer,
        AdminClient(bootstrap_servers=bootstrap) as admin,
    ):
        described = await admin.describe_topics([topic])
        tps = [TopicPartition(topic, p.partition) for p in described[topic].partitions]
        consumer.assign(tps)
        ends = await consumer.end_offsets(tps)
        out: list[ConsumerRecord] = []
        deadline = asyncio.get_running_loop().time() + 20
        while asyncio.get_running_loop().time() < deadline:
            if all([await consumer.position(tp) >= end for tp, end in ends.items()]):
                break
            batch = await consumer.getmany(timeout_ms=100)
            out += [r for records in batch.values() for r in records]
        return out


def assert_exact_counts(records: Sequence[ConsumerRecord], expected: dict[bytes, int]) -> None:
    """Per word, the counts sent are exactly 1, 2, ..., n: none missing, none twice."""
    seen: dict[bytes, list[int]] = {}
    for r in sorted(records, key=lambda r: (r.partition, r.offset)):
        assert r.key is not None
        assert r.value is not None
        seen.setdefault(r.key, []).append(int(r.value))
    assert seen == {w: list(range(1, n + 1)) for w, n in expected.items()}


def runtime_of(app: App) -> StreamsRuntime:
    runtime = app._runtime
    assert runtime is not None
    return runtime


async def commit_now(app: App) -> None:
    runtime = runtime_of(app)
    async with runtime.lock:
        await runtime.commit()


async def process_until(app: App, processed: int, timeout: float = 20.0) -> None:
    """Drive the app's loop (no commits: the interval is long) until it processed that many."""
    runtime = runtime_of(app)
    deadline = asyncio.get_running_loop().time() + timeout
    while app.metrics.value("tidal_streams_records_processed_total") < processed:
        assert asyncio.get_running_loop().time() < deadline, "the app did not process in time"
        await runtime.run_once(50)


# -- settings ----------------------------------------------------------------------------


def test_exactly_once_defaults_and_a_stable_transactional_id(tmp_path: Path) -> None:
    eos = AppConfig("wc", state_dir=tmp_path / "a", processing_guarantee="exactly_once_v2")
    assert eos.commit_interval == 100  # Kafka Streams' default under exactly-once
    assert AppConfig("wc", state_dir=tmp_path / "a").commit_interval == 30_000
    given = AppConfig("wc", processing_guarantee="exactly_once_v2", commit_interval_ms=7)
    assert given.commit_interval == 7
    first = StreamsRuntime.transactional_id_for(eos)
    assert first.startswith("wc-")
    assert StreamsRuntime.transactional_id_for(eos) == first  # kept in the state dir
    assert (tmp_path / "a" / "wc" / "instance.id").read_text().strip() == first[3:]
    other = AppConfig("wc", state_dir=tmp_path / "b", processing_guarantee="exactly_once_v2")
    assert StreamsRuntime.transactional_id_for(other) != first


# -- commit visibility ---------------------------------------------------------------------


async def test_outputs_are_visible_to_read_committed_only_after_the_commit(
    broker: str, tmp_path: Path
) -> None:
    await produce(broker, words(2))
    app = eos_app(broker, tmp_path / "state", commit_interval_ms=600_000)
    await app.start()
    try:
        await process_until(app, 12)
        await runtime_of(app).producer.flush()
        # Written to the log inside the open transaction...
        await wait_for(
            lambda: _count(broker, OUTPUT, "read_uncommitted", 12), what="uncommitted outputs"
        )
        # ...but neither the outputs, the changelog nor the offsets are committed.
        assert await read(broker, OUTPUT, "read_committed") == []
        assert await read(broker, CHANGELOG, "read_committed") == []
        assert await committed(broker, "wc") == {}
        assert app.metrics.value("tidal_streams_commits_total") == 0
        await commit_now(app)
        await commit_now(app)  # nothing new: no transaction, not counted
        assert app.metrics.value("tidal_streams_commits_total") == 1
        assert_exact_counts(await read(broker, OUTPUT, "read_committed"), dict.fromkeys(WORDS, 2))
        assert sum(om.offset for om in (await committed(broker, "wc")).values()) == 12
        changelog = await read(broker, CHANGELOG, "read_committed")
        assert {r.key: int(r.value or b"0") for r in changelog} == dict.fromkeys(WORDS, 2)
    finally:
        await app.close()
    assert app.state == "stopped"


async def _count(broker: str, topic: str, isolation: str, at_least: int) -> bool:
    return len(await read(broker, topic, isolation)) >= at_least


# -- aborts --------------------------------------------------------------------------------


def fail_once(producer: Producer, method: str) -> list[str]:
    """Make ``producer.<method>`` flush what was sent, then fail abortably, once."""
    real = getattr(producer, method)
    calls: list[str] = []

    async def failing(*args: Any, **kwargs: Any) -> None:
        calls.append(method)
        if len(calls) == 1:
            await producer.flush()  # the interval's records reach the log first
            raise TransactionAbortableError("injected") from NotEnoughReplicasError("injected")
        await real(*args, **kwargs)

    setattr(producer, method, failing)
    return calls


@pytest.mark.parametrize("method", ["send_offsets_to_transaction", "commit_transaction"])
async def test_a_failed_transaction_aborts_rolls_back_and_reprocesses_exactly(
    broker: str, tmp_path: Path, method: str
) -> None:
    await produce(broker, words(3))
    app = eos_app(broker, tmp_path / "state", commit_interval_ms=600_000)
    await app.start()
    try:
        runtime = runtime_of(app)
        calls = fail_once(runtime.producer, method)
        await process_until(app, 18)
        await commit_now(app)  # fails: aborted, the tasks rewind
        assert calls == [method]
        assert runtime.eos is not None
        assert runtime.eos.aborts == 1
        assert await read(broker, OUTPUT, "read_committed") == []
        # The aborted interval's outputs are in the log, hidden from read_committed.
        assert len(await read(broker, OUTPUT, "read_uncommitted")) == 18
        # The stores dropped the interval's writes: processing starts over from zero.
        await process_until(app, 36)
        await commit_now(app)
        assert runtime.eos.commits == 1
        await produce(broker, words(1))
        await process_until(app, 42)
    finally:
        await app.close()
    assert_exact_counts(await read(broker, OUTPUT, "read_committed"), dict.fromkeys(WORDS, 4))
    changelog = await read(broker, CHANGELOG, "read_committed")
    assert {r.key: int(r.value or b"0") for r in changelog} == dict.fromkeys(WORDS, 4)
    assert sum(om.offset for om in (await committed(broker, "wc")).values()) == 24


async def test_a_failed_send_mid_interval_aborts_and_the_run_ends_exact(
    broker: str, tmp_path: Path
) -> None:
    """An output that cannot be written fails the transaction; the app goes on."""
    await produce(broker, words(5))
    app = eos_app(broker, tmp_path / "state", commit_interval_ms=100)
    await app.start()
    runtime = runtime_of(app)
    real_send = runtime.producer.send
    failed: list[int] = []

    async def send(topic: str, *args: Any, **kwargs: Any) -> Any:
        if topic == OUTPUT and not failed:
            failed.append(1)
            raise TransactionAbortableError("injected") from NotEnoughReplicasError("injected")
        return await real_send(topic, *args, **kwargs)

    runtime.producer.send = send  # type: ignore[method-assign]
    try:
        await app.wait(timeout=30, stop_when_idle_ms=500)
    finally:
        await app.close()
    assert failed == [1]
    assert runtime.eos is not None
    assert runtime.eos.aborts >= 1
    assert_exact_counts(await read(broker, OUTPUT, "read_committed"), dict.fromkeys(WORDS, 5))


# -- restarts and zombies ------------------------------------------------------------------


async def test_a_restarted_instance_fences_its_zombie(broker: str, tmp_path: Path) -> None:
    await produce(broker, words(2))
    zombie = eos_app(broker, tmp_path / "zombie", commit_interval_ms=600_000)
    await zombie.start()
    successor: App | None = None
    try:
        await process_until(zombie, 12)
        await commit_now(zombie)
        await produce(broker, words(2))
        await process_until(zombie, 24)  # an open transaction: the zombie's last interval
        await runtime_of(zombie).producer.flush()
        # The same instance started again (its state directory, so its instance id).
        (tmp_path / "successor" / "wc").mkdir(parents=True)
        shutil.copy(
            tmp_path / "zombie" / "wc" / "instance.id",
            tmp_path / "successor" / "wc" / "instance.id",
        )
        successor = eos_app(broker, tmp_path / "successor")
        await successor.start()  # init_transactions: fences the zombie, aborts its transaction
        with pytest.raises(InstanceFencedError, match="was fenced"):
            await commit_now(zombie)
        await zombie.close()  # leaves the group without committing
        await successor.wait(timeout=30, stop_when_idle_ms=500)
    finally:
        await zombie.close()
        if successor is not None:
            await successor.close()
    out = await read(broker, OUTPUT, "read_committed")
    assert_exact_counts(out, dict.fromkeys(WORDS, 4))
    assert len(await read(broker, OUTPUT, "read_uncommitted")) > len(out)  # the zombie's abort


async def test_a_store_ahead_of_the_committed_changelog_is_wiped_and_restored(
    broker: str, tmp_path: Path
) -> None:
    await produce(broker, words(2))
    app = eos_app(broker, tmp_path / "state")
    await app.run_async(timeout=30, stop_when_idle_ms=400)
    # Make every store claim changelog records that were never committed.
    files = list((tmp_path / "state" / "wc").glob("0_*/counts.json"))
    assert files
    for path in files:
        body = json.loads(path.read_text())
        body["offset"] = 1_000_000
        body["data"] = {k: b"999".hex() for k in body["data"]}
        path.write_text(json.dumps(body))
    await produce(broker, words(1))
    again = eos_app(broker, tmp_path / "state")
    await again.run_async(timeout=30, stop_when_idle_ms=400)
    assert_exact_counts(await read(broker, OUTPUT, "read_committed"), dict.fromkeys(WORDS, 3))


async def test_a_restore_waits_for_a_transaction_open_on_the_changelog(
    broker: str, tmp_path: Path
) -> None:
    """Records committed after an open transaction began are restored too: the
    restore ends at the high watermark, once that transaction ended."""
    await produce(broker, words(2))
    await eos_app(broker, tmp_path / "state").run_async(timeout=30, stop_when_idle_ms=400)
    changelog = TopicPartition(CHANGELOG, murmur2_partition(b"apple", 3))
    async with (
        Producer(bootstrap_servers=broker, transactional_id="hanging") as hanging,
        Producer(bootstrap_servers=broker, transactional_id="newer-owner") as newer,
    ):
        await hanging.init_transactions()
        hanging.begin_transaction()  # a zombie's transaction, open in front...
        await (await hanging.send(CHANGELOG, b"1", b"pear", partition=changelog.partition))
        await newer.init_transactions()
        newer.begin_transaction()  # ...of a record committed after it
        await newer.send(CHANGELOG, b"100", b"apple", partition=changelog.partition)
        await newer.commit_transaction()
        await produce(broker, [(b"apple", b"x")])
        app = eos_app(broker, tmp_path / "state")
        await app.start()
        try:
            waiting = asyncio.create_task(app.wait(timeout=30, stop_when_idle_ms=400))
            restorer = runtime_of(app).restorer
            await wait_for(lambda: restorer.busy, what="the restore to begin")
            await asyncio.sleep(0.5)
            assert restorer.busy  # waiting for the open transaction to end
            assert app.metrics.value("tidal_streams_records_processed_total") == 0
            await hanging.abort_transaction()
            await waiting
        finally:
            await app.close()
    apples = [r for r in await read(broker, OUTPUT, "read_committed") if r.key == b"apple"]
    assert [int(r.value or b"0") for r in apples] == [1, 2, 101]


async def test_tasks_handed_over_between_instances_mid_stream_stay_exact(
    broker: str, tmp_path: Path
) -> None:
    """Revocations commit a transaction, assignments restore read_committed: across
    two handovers under load every count goes 1, 2, ... once."""
    vocabulary = [b"w%02d" % i for i in range(30)]

    def batch(rounds: int) -> list[tuple[bytes, bytes]]:
        return [(w, b"x") for _ in range(rounds) for w in vocabulary]

    first = eos_app(broker, tmp_path / "a")
    second = eos_app(broker, tmp_path / "b")
    one = asyncio.create_task(first.run_async(timeout=120))
    two: asyncio.Task[None] | None = None
    try:
        await produce(broker, batch(20))
        await wait_for(lambda: len(first.local_tasks()) == 3, what="the first owns every task")
        two = asyncio.create_task(second.run_async(timeout=120))
        await produce(broker, batch(20))  # processed while the tasks move
        await wait_for(
            lambda: first.local_tasks() and second.local_tasks(), what="the tasks shared"
        )
        await produce(broker, batch(20))
        second.stop()  # its tasks go back to the first, mid-stream
        await produce(broker, batch(20))
        await asyncio.wait_for(two, 60)
        await wait_for(
            lambda: _count(broker, OUTPUT, "read_committed", len(vocabulary) * 80),
            timeout=60,
            what="every output committed",
        )
    finally:
        first.stop()
        await asyncio.wait_for(one, 60)
        if two is not None and not two.done():
            second.stop()
            await asyncio.wait_for(two, 60)
    assert first.state == second.state == "stopped"
    assert second.metrics.value("tidal_streams_records_processed_total") > 0
    assert_exact_counts(await read(broker, OUTPUT, "read_committed"), dict.fromkeys(vocabulary, 80))
