"""The broker's state: one object every handler reaches through its context.

``Broker`` owns the log manager, the topic registry, the group coordinator and
the idempotent-producer state, and knows the address it advertises. The
network server (``_server.py``) feeds it requests; it does no socket I/O.
Start-up and shut-down order::

    start: logs (recovery) -> topics -> producer ids -> group coordinator load
           -> transaction coordinator load (finishes prepared transactions)
    stop:  transaction coordinator -> group coordinator -> producer snapshots
           -> logs (flush, checkpoints, clean-shutdown marker)
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from pathlib import Path

from tidal.log.broker._config import BrokerConfig
from tidal.log.broker._sendfile import DEFAULT_SENDFILE_MIN_BYTES
from tidal.log.broker._topics import TopicError, TopicInfo, TopicRegistry, load_cluster_id
from tidal.log.broker.group import (
    OFFSETS_TOPIC,
    GroupCoordinator,
    GroupCoordinatorConfig,
    LogOffsetsStorage,
    offsets_topic_config,
)
from tidal.log.broker.producer import ProducerIdManager, ProducerStateManager
from tidal.log.broker.txn import (
    TRANSACTION_STATE_TOPIC,
    TransactionConfig,
    TransactionCoordinator,
    last_stable_offset,
    write_markers,
)
from tidal.log.storage import LogManager, LogManagerConfig, PartitionLog

__all__ = ["LEADER_EPOCH", "AppendWaiters", "Broker"]

#: The only leader epoch of a single node: Metadata, batches and ListOffsets
#: all say 0 (librdkafka sends 0, not -1, once Metadata v9+ gave epochs).
LEADER_EPOCH = 0

TopicPartition = tuple[str, int]


class AppendWaiters:
    """Wakes Fetch long polls when a partition they wait on gets data.

    A waiter is one future registered under every partition it reads; an
    append resolves the futures of its partition and forgets them.
    """

    def __init__(self) -> None:
        self._waiters: dict[TopicPartition, set[asyncio.Future[None]]] = {}

    def notify(self, topic: str, partition: int) -> None:
        """Data was appended to ``topic``-``partition``."""
        waiters = self._waiters.pop((topic, partition), None)
        if waiters:
            for future in waiters:
                if not future.done():
                    future.set_result(None)

    async def wait(self, partitions: Iterable[TopicPartition], timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for an append to any of
        ``partitions``; True if one happened."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        keys = list(partitions)
        for key in keys:
            self._waiters.setdefault(key, set()).add(future)
        try:
            done, _ = await asyncio.wait((future,), timeout=timeout)
            return bool(done)
        finally:
            for key in keys:
                waiters = self._waiters.get(key)
                if waiters is not None:
                    waiters.discard(future)
                    if not waiters:
                        del self._waiters[key]
            future.cancel()


_log = logging.getLogger(__name__)

#: Broker settings the log manager reads, by their server.properties names.
_LOG_MANAGER_KEYS = (
    "log.retention.check.interval.ms",
    "log.flush.scheduler.interval.ms",
    "log.flush.offset.checkpoint.interval.ms",
    "log.cleaner.enable",
    "log.cleaner.backoff.ms",
    "log.max.open.files",
)


class Broker:
    """A single-node broker's state over a data directory.

    >>> broker = Broker(BrokerConfig({"log.dirs": "/tmp/tidal"}))   # doctest: +SKIP
    >>> await broker.start()                                         # doctest: +SKIP
    """

    def __init__(self, config: BrokerConfig) -> None:
        self.config = config
        self.node_id: int = config.get("node.id")
        self.data_dir = Path(config.get("log.dirs"))
        self.data_dir.mkdir(parents=True, exist_ok=True)
        #: where clients are told to connect; set by the server once bound
        self.advertised_host = "127.0.0.1"
        self.advertised_port = 9092
        manager_props = {k: config.get(k) for k in _LOG_MANAGER_KEYS if config.is_explicit(k)}
        # Locks the directory: a second broker over it raises DataDirInUseError here.
        self.logs = LogManager(
            self.data_dir,
            config.topic_defaults,
            LogManagerConfig.from_properties(manager_props),
        )
        try:
            self._init_state(config)
        except BaseException:
            self.logs.shutdown()  # releases the directory's lock
            raise

    def _init_state(self, config: BrokerConfig) -> None:
        self.cluster_id = load_cluster_id(self.data_dir, self.node_id)
        self.topics = TopicRegistry(self.data_dir, config, self.logs)
        self.producer_ids = ProducerIdManager(
            self.data_dir,
            broker_id=self.node_id,
            producer_id_expiration_ms=config.get("producer.id.expiration.ms"),
        )
        self._producer_states: dict[tuple[str, int], ProducerStateManager] = {}
        group_props = {
            k: v for k, v in config.explicit().items() if k.startswith(("group.", "offset"))
        }
        self.groups = GroupCoordinator(
            LogOffsetsStorage(self.logs),
            GroupCoordinatorConfig.from_properties(group_props),
            partition_exists=self.partition_exists,
        )
        txn_config = TransactionConfig.from_properties(config.explicit())
        self.txn = TransactionCoordinator(
            LogOffsetsStorage(
                self.logs,
                offsets_topic_config(txn_config.segment_bytes),
                topic=TRANSACTION_STATE_TOPIC,
            ),
            txn_config,
            generate_producer_id=self.producer_ids.generate_producer_id,
            write_markers=lambda pid, epoch, commit, parts: write_markers(
                self, pid, epoch, commit, parts
            ),
            partition_exists=self.partition_exists,
        )
        #: Fetch long polls wait here for Produce to append
        self.appends = AppendWaiters()
        #: Fetch ranges this large are written with sendfile (None: never)
        self.sendfile_min_bytes: int | None = DEFAULT_SENDFILE_MIN_BYTES
        self._started = False

    async def start(self) -> None:
        """Load consumer groups and offsets; the logs were recovered at init."""
        # This node is every partition's only in-sync replica, so what its logs
        # hold after recovery is committed: Kafka's leader moves its high
        # watermark to the log end when the ISR is itself alone. Without this a
        # kill -9 leaves the checkpointed (older) high watermark in place until
        # the next append, hiding acknowledged records from consumers.
        for log in self.logs.logs().values():
            log.high_watermark = log.log_end_offset
        await self.groups.start()
        await self.txn.start()
        self._started = True
        _log.info(
            "broker %d started over %s (cluster %s, %d topics)",
            self.node_id, self.data_dir, self.cluster_id, len(self.topics.topics()),
        )  # fmt: skip

    async def stop(self) -> None:
        """Shut down cleanly: everything flushed, the clean-shutdown marker written."""
        await self.txn.close()
        self.groups.close()
        for (topic, partition), state in self._producer_states.items():
            log = self.logs.get_log(topic, partition)
            if log is not None:
                state.take_snapshot(log.log_end_offset)
        self.logs.shutdown()
        self._started = False

    # ---- lookups used by handlers --------------------------------------------

    def partition_exists(self, topic: str, partition: int) -> bool:
        """True when ``topic`` exists with a partition ``partition``."""
        info = self.topics.get(topic)
        return info is not None and 0 <= partition < info.partitions

    def partition_log(self, topic: str, partition: int) -> PartitionLog | None:
        """The log of an existing partition (internal topics included)."""
        if topic.startswith("__") and self.topics.get(topic) is None:
            return self.logs.get_log(topic, partition)
        if not self.partition_exists(topic, partition):
            return None
        return self.logs.get_log(topic, partition)

    def internal_topics(self) -> dict[str, int]:
        """Internal topics that exist on disk, with their partition counts."""
        on_disk = {topic for topic, _ in self.logs.logs()}
        counts = {
            OFFSETS_TOPIC: self.groups.config.offsets_topic_num_partitions,
            TRANSACTION_STATE_TOPIC: self.txn.config.num_partitions,
        }
        return {topic: count for topic, count in counts.items() if topic in on_disk}

    def producer_state(self, topic: str, partition: int) -> ProducerStateManager:
        """The idempotent-producer state of a partition, loaded on first use."""
        key = (topic, partition)
        state = self._producer_states.get(key)
        if state is None:
            log = self.logs.get_log(topic, partition)
            if log is None:
                raise KeyError(f"{topic}-{partition} has no log")
            state = ProducerStateManager.load(
                log, producer_id_expiration_ms=self.config.get("producer.id.expiration.ms")
            )
            self._producer_states[key] = state
        return state

    def last_stable_offset(self, topic: str, partition: int, log: PartitionLog) -> int:
        """The partition's last stable offset (the high watermark without open transactions).

        Internal topics answer their high watermark: the coordinators append
        to them directly, so no producer state follows their transactions.
        """
        if topic in (OFFSETS_TOPIC, TRANSACTION_STATE_TOPIC):
            return log.high_watermark
        return last_stable_offset(log, self.producer_state(topic, partition))

    def forget_producer_state(self, topic: str) -> None:
        """Drop cached producer state of a deleted topic."""
        for key in [k for k in self._producer_states if k[0] == topic]:
            del self._producer_states[key]

    def topic_for_use(self, name: str) -> TopicInfo | None:
        """``name``'s metadata, creating the topic when auto-creation is on
        (Metadata and Produce to a missing topic do this in Kafka)."""
        info = self.topics.get(name)
        if info is not None or not self.config.get("auto.create.topics.enable"):
            return info
        try:
            return self.topics.create_topic(name)
        except TopicError as exc:
            _log.info("not auto-creating %r: %s", name, exc.message)
            return None
