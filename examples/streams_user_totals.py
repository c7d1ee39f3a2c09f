"""A running total per user: every payment updates its user's aggregate in RocksDB.

Run it with ``python examples/streams_user_totals.py [STATE_DIR]``. The app
starts an embedded broker (its log in ``STATE_DIR/user-totals/broker``, a
temporary directory unless one is given).

Payments arrive on ``payments`` keyed by user, as JSON. The topology groups
them by that key (no repartition: the key does not change), aggregates each
user's count, total and largest payment in the store ``totals`` and sends
every new aggregate to ``user-totals``. A filtered view of the same table
sends users whose total passed 100.00 to ``big-spenders``.

It prints one user's running aggregate as the output topic recorded it, the
final totals from a local query of the store, and the big spenders.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from tidal.log.client.admin import AdminClient, NewTopic
from tidal.log.client.consumer import Consumer, TopicPartition
from tidal.log.client.producer import Producer
from tidal.streams import App

PARTITIONS = 2
BIG_SPENDER_CENTS = 10_000
#: (user, amount in cents), in the order they are paid.
PAYMENTS = [
    ("alice", 1_250), ("bob", 4_000), ("carol", 999), ("alice", 3_000), ("dave", 15_000),
    ("bob", 2_500), ("alice", 7_500), ("carol", 1), ("bob", 4_000), ("erin", 500),
    ("alice", 250), ("carol", 2_000), ("erin", 9_600), ("bob", 100), ("dave", 1),
]  # fmt: skip


def start_total() -> dict[str, int]:
    """A user's aggregate before their first payment."""
    return {"payments": 0, "total_cents": 0, "largest_cents": 0}


def add_payment(_user: str, payment: dict[str, Any], total: dict[str, int]) -> dict[str, int]:
    """The aggregate after one more payment (a new dict: stores keep what they are given)."""
    amount = payment["amount_cents"]
    return {
        "payments": total["payments"] + 1,
        "total_cents": total["total_cents"] + amount,
        "largest_cents": max(total["largest_cents"], amount),
    }


def build_app(state_dir: Path) -> App:
    """Payments in, a running aggregate per user out."""
    app = App("user-totals", state_dir=state_dir, commit_interval_ms=500)
    totals = (
        app.stream("payments", key_serde="str", value_serde="json")
        .group_by_key()
        .aggregate(start_total, add_payment, "totals", value_serde="json")
    )
    totals.to_stream().to("user-totals", key_serde="str", value_serde="json")
    (
        totals.filter(lambda _user, total: total["total_cents"] > BIG_SPENDER_CENTS)
        .to_stream()
        .to("big-spenders", key_serde="str", value_serde="json")
    )
    return app


async def read_all(bootstrap: str, topic: str) -> list[tuple[str, dict[str, int] | None]]:
    """Every (key, value) of ``topic`` from the beginning to its end, partition by partition."""
    partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
    async with Consumer(bootstrap_servers=bootstrap, enable_auto_commit=False) as consumer:
        consumer.assign(partitions)
        consumer.seek_to_beginning()
        ends = await consumer.end_offsets(partitions)
        found: list[tuple[str, dict[str, int] | None]] = []
        while any([await consumer.position(tp) < end for tp, end in ends.items()]):
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                found += [(r.key.decode(), r.value and json.loads(r.value)) for r in batch]
        return found


def money(cents: int) -> str:
    return f"{cents / 100:.2f}"


async def main(state_dir: Path) -> None:
    app = build_app(state_dir)
    await app.start()
    try:
        bootstrap = app.bootstrap_servers
        async with AdminClient(bootstrap_servers=bootstrap) as admin:
            await admin.create_topics(
                [NewTopic(t, PARTITIONS) for t in ("user-totals", "big-spenders")]
            )
        async with Producer(bootstrap_servers=bootstrap) as producer:
            for user, cents in PAYMENTS:
                payment = {"user": user, "amount_cents": cents}
                await producer.send("payments", json.dumps(payment).encode(), user.encode())
        print(f"wrote {len(PAYMENTS)} payments to 'payments'")
        await app.wait(stop_when_idle_ms=1000)

        updates = await read_all(bootstrap, "user-totals")
        print(f"\n'user-totals' received {len(updates)} updates; alice's, in order:")
        for user, total in updates:
            if user == "alice" and total is not None:
                print(
                    f"  alice: payments={total['payments']} total={money(total['total_cents'])} "
                    f"largest={money(total['largest_cents'])}"
                )

        print("\nfinal totals (local query of store 'totals'):")
        for user, total in app.store("totals").items():
            print(
                f"  {user:<6} payments={total['payments']} total={money(total['total_cents'])} "
                f"largest={money(total['largest_cents'])}"
            )

        # A table's filter sends a tombstone (None) when a user stops matching.
        latest = dict(await read_all(bootstrap, "big-spenders"))
        spenders = sorted(user for user, total in latest.items() if total is not None)
        print(f"\nbig spenders (total above {money(BIG_SPENDER_CENTS)}): {', '.join(spenders)}")
    finally:
        await app.close()


if __name__ == "__main__":
    if len(sys.argv) > 1:
        asyncio.run(main(Path(sys.argv[1])))
    else:
        with tempfile.TemporaryDirectory(prefix="tidal-user-totals-") as tmp:
            asyncio.run(main(Path(tmp)))
