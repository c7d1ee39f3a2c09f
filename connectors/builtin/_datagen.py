"""The datagen source: keyed mock users, orders and page views at a chosen rate.

::

    connector.class=DatagenSource
    kafka.topic=users
    quickstart=users        # users | orders | pageviews
    rate=100                # records per second per task; 0 = as fast as possible
    seed=42                 # the same seed gives the same records
    max.records=10000       # per task; 0 = no end (``iterations`` is Confluent's name)

Record *n* of a task depends only on the seed, the quickstart, the task number and *n*, so a
restarted task (its offset is ``{"seq": n, "seed": s}`` in partition ``{"quickstart": q,
"task": t}``) continues the very same sequence. Without a seed one is drawn at the first start
and kept in the offsets. ``ordertime`` and ``viewtime`` walk forward from 2024-01-01, one
second per record; ``registertime`` is drawn from 2017-2018 (as in Confluent's quickstart);
record timestamps are left to the producer.

=========  ======================  ============================================================
quickstart key                     value (Struct)
=========  ======================  ============================================================
users      ``userid`` (string)     registertime, userid, regionid, gender (``ksql.users``)
pageviews  ``userid`` (string)     viewtime, userid, pageid (``ksql.pageviews``)
orders     ``orderid`` (int32)     ordertime, orderid, itemid, orderunits, address{city, state,
                                   zipcode} (``ksql.orders``)
=========  ======================  ============================================================
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from tidal._version import __version__
from tidal.connectors.api import (
    ExactlyOnceSupport,
    Schema,
    SchemaBuilder,
    SourceConnector,
    SourceRecord,
    SourceTask,
    Struct,
)
from tidal.connectors.config import (
    ConfigDef,
    ConfigType,
    Importance,
    NonEmptyString,
    Range,
    ValidString,
)

__all__ = ["QUICKSTARTS", "DatagenSourceConnector", "DatagenSourceTask", "datagen_config"]

_BASE_MS = 1_704_067_200_000  # 2024-01-01T00:00:00Z
_MAX_IDLE_S = 1.0

_ADDRESS = (
    SchemaBuilder.struct().name("ksql.address")
    .field("city", Schema.STRING_SCHEMA).field("state", Schema.STRING_SCHEMA)
    .field("zipcode", Schema.INT64_SCHEMA).build()
)  # fmt: skip
_SCHEMAS = {
    "users": SchemaBuilder.struct().name("ksql.users")
    .field("registertime", Schema.INT64_SCHEMA).field("userid", Schema.STRING_SCHEMA)
    .field("regionid", Schema.STRING_SCHEMA).field("gender", Schema.STRING_SCHEMA).build(),
    "pageviews": SchemaBuilder.struct().name("ksql.pageviews")
    .field("viewtime", Schema.INT64_SCHEMA).field("userid", Schema.STRING_SCHEMA)
    .field("pageid", Schema.STRING_SCHEMA).build(),
    "orders": SchemaBuilder.struct().name("ksql.orders")
    .field("ordertime", Schema.INT64_SCHEMA).field("orderid", Schema.INT32_SCHEMA)
    .field("itemid", Schema.STRING_SCHEMA).field("orderunits", Schema.FLOAT64_SCHEMA)
    .field("address", _ADDRESS).build(),
}  # fmt: skip
_CITIES = (("Austin", "TX"), ("Boston", "MA"), ("Denver", "CO"), ("Portland", "OR"),
           ("Seattle", "WA"), ("Chicago", "IL"))  # fmt: skip


def _users(rng: random.Random, seq: int) -> tuple[Schema, Any, Struct]:
    userid = f"User_{rng.randint(1, 9)}"
    value = Struct(_SCHEMAS["users"]).put("registertime", rng.randint(1487715775521, 1519273364600))
    value.put("userid", userid).put("regionid", f"Region_{rng.randint(1, 9)}")
    value.put("gender", rng.choice(("MALE", "FEMALE", "OTHER")))
    return Schema.STRING_SCHEMA, userid, value


def _pageviews(rng: random.Random, seq: int) -> tuple[Schema, Any, Struct]:
    userid = f"User_{rng.randint(1, 9)}"
    value = Struct(_SCHEMAS["pageviews"]).put(
        "viewtime", _BASE_MS + seq * 1000 + rng.randrange(1000)
    )
    value.put("userid", userid).put("pageid", f"Page_{rng.randint(1, 99)}")
    return Schema.STRING_SCHEMA, userid, value


def _orders(rng: random.Random, seq: int) -> tuple[Schema, Any, Struct]:
    city, state = rng.choice(_CITIES)
    address = Struct(_ADDRESS).put("city", city).put("state", state)
    address.put("zipcode", rng.randint(10000, 99999))
    orderid = seq % 2**31
    value = Struct(_SCHEMAS["orders"]).put("ordertime", _BASE_MS + seq * 1000 + rng.randrange(1000))
    value.put("orderid", orderid).put("itemid", f"Item_{rng.randint(1, 999)}")
    value.put("orderunits", round(rng.uniform(0.5, 10.0), 2)).put("address", address)
    return Schema.INT32_SCHEMA, orderid, value


#: Generators by quickstart name: ``(rng, sequence number) -> (key schema, key, value)``.
QUICKSTARTS: dict[str, Callable[[random.Random, int], tuple[Schema, Any, Struct]]] = {
    "users": _users,
    "pageviews": _pageviews,
    "orders": _orders,
}


def datagen_config() -> ConfigDef:
    """The datagen source's settings."""
    return (
        ConfigDef()
        .define("kafka.topic", ConfigType.STRING, ConfigDef.NO_DEFAULT_VALUE, NonEmptyString(),
                Importance.HIGH, "Topic to write to.")
        .define("quickstart", ConfigType.STRING, "users", ValidString.in_(*QUICKSTARTS),
                Importance.HIGH, "What to generate: users, orders or pageviews.")
        .define("rate", ConfigType.DOUBLE, 10.0, Range.at_least(0), Importance.MEDIUM,
                "Records per second per task; 0 means as fast as possible.")
        .define("seed", ConfigType.LONG, None, None, Importance.LOW,
                "Random seed: the same seed gives the same records (default: drawn once and "
                "kept in the source offsets).")
        .define("max.records", ConfigType.LONG, 0, Range.at_least(0), Importance.MEDIUM,
                "Records to generate per task, then stop; 0 means no end.")
        .define("iterations", ConfigType.LONG, 0, Range.at_least(0), Importance.LOW,
                "Confluent datagen's name for max.records (used when max.records is 0).")
        .define("batch.size", ConfigType.INT, 500, Range.at_least(1), Importance.LOW,
                "Most records returned by one poll.")
    )  # fmt: skip


class DatagenSourceConnector(SourceConnector):
    """Generates mock data; every task makes its own deterministic sequence."""

    def version(self) -> str:
        """Tidal's version."""
        return __version__

    def start(self, props: Mapping[str, str]) -> None:
        """Check and keep the configuration."""
        datagen_config().parse(props)
        self.props = dict(props)

    def task_class(self) -> type[SourceTask]:
        """:class:`DatagenSourceTask`."""
        return DatagenSourceTask

    def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        """``max_tasks`` tasks, numbered by ``task.id``."""
        return [{**self.props, "task.id": str(i)} for i in range(max_tasks)]

    def stop(self) -> None:
        """Nothing to release."""

    def config(self) -> ConfigDef:
        """``kafka.topic``, ``quickstart``, ``rate``, ``seed``, ``max.records``."""
        return datagen_config()

    def exactly_once_support(self, props: Mapping[str, str]) -> ExactlyOnceSupport:
        """Supported: record *n* is the same however often it is generated."""
        return ExactlyOnceSupport.SUPPORTED


class DatagenSourceTask(SourceTask):
    """Generates records at the configured rate, continuing from its committed offset."""

    def __init__(self) -> None:
        super().__init__()
        self._stopping = threading.Event()

    def version(self) -> str:
        """Tidal's version."""
        return __version__

    def start(self, props: Mapping[str, str]) -> None:
        """Read the settings and the committed offset."""
        config = datagen_config().parse(props)
        self._topic: str = config["kafka.topic"]
        self._quickstart: str = config["quickstart"]
        self._rate: float = config["rate"]
        self._batch: int = config["batch.size"]
        self._limit: int = config["max.records"] or config["iterations"]
        self._partition = {"quickstart": self._quickstart, "task": int(props.get("task.id", 0))}
        stored = None
        if self.context is not None:
            stored = self.context.offset_storage_reader.offset(self._partition)
        self._seq = int(stored["seq"]) if stored else 0
        seed = config["seed"]
        if seed is None:
            seed = int(stored["seed"]) if stored else random.SystemRandom().getrandbits(63)
        self._seed: int = seed
        self._started = time.monotonic()
        self._started_seq = self._seq

    def poll(self) -> list[SourceRecord]:
        """The records due by now at ``rate`` (at most ``batch.size``)."""
        count = self._batch
        if self._limit:
            count = min(count, self._limit - self._seq)
        if count <= 0:
            self._stopping.wait(_MAX_IDLE_S)
            return []
        if self._rate > 0:
            elapsed = time.monotonic() - self._started
            due = int(elapsed * self._rate) + 1 - (self._seq - self._started_seq)
            if due <= 0:
                wait = (self._seq - self._started_seq) / self._rate - elapsed
                self._stopping.wait(min(max(wait, 0.0), _MAX_IDLE_S))
                return []
            count = min(count, due)
        return [self._record(self._next_seq()) for _ in range(count)]

    def _next_seq(self) -> int:
        seq = self._seq
        self._seq += 1
        return seq

    def _record(self, seq: int) -> SourceRecord:
        rng = random.Random(f"{self._seed}:{self._quickstart}:{self._partition['task']}:{seq}")
        key_schema, key, value = QUICKSTARTS[self._quickstart](rng, seq)
        return SourceRecord(
            topic=self._topic, key_schema=key_schema, key=key,
            value_schema=value.schema, value=value,
            source_partition=self._partition,
            source_offset={"seq": seq + 1, "seed": self._seed},
        )  # fmt: skip

    def stop(self) -> None:
        """Wake a waiting poll."""
        self._stopping.set()
