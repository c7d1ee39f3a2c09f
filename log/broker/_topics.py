"""Topic metadata: which topics exist, their ids, partition counts and config
overrides, persisted in the data directory.

Files::

    <data dir>/meta.properties        cluster.id, node.id, version (as Kafka's)
    <data dir>/tidal-topics.json      {"topics": [{"name", "topic_id", "partitions",
                                                   "configs": {...}}, ...]}

``tidal-topics.json`` is rewritten whole (temp file, fsync, rename) on every
change, so a crash leaves either the old or the new version. Partition logs
live in the ``LogManager``; this registry only says which should exist and
with which ``LogConfig``.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tidal.log.broker._config import BrokerConfig
from tidal.log.storage import ConfigError, LogConfig, LogManager, validate_topic_name

__all__ = ["INTERNAL_TOPICS", "TopicError", "TopicInfo", "TopicRegistry", "load_cluster_id"]

TOPICS_FILE = "tidal-topics.json"
META_FILE = "meta.properties"
INTERNAL_TOPICS = frozenset({"__consumer_offsets", "__transaction_state"})
_MAX_PARTITIONS = 100_000


class TopicError(Exception):
    """A topic operation refused with Kafka's error code and a message."""

    def __init__(self, error_code: int, message: str) -> None:
        super().__init__(message)
        self.error_code = error_code
        self.message = message


# Kafka error codes used here (see tidal.log.protocol for the full table).
UNKNOWN_TOPIC_OR_PARTITION = 3
INVALID_TOPIC_EXCEPTION = 17
TOPIC_ALREADY_EXISTS = 36
INVALID_PARTITIONS = 37
INVALID_REPLICATION_FACTOR = 38
INVALID_CONFIG = 40
TOPIC_DELETION_DISABLED = 73


@dataclass(slots=True)
class TopicInfo:
    """One topic: name, id, partition count and its config overrides."""

    name: str
    topic_id: uuid.UUID
    partitions: int
    configs: dict[str, str] = field(default_factory=dict)

    @property
    def is_internal(self) -> bool:
        """True for ``__consumer_offsets`` and ``__transaction_state``."""
        return self.name in INTERNAL_TOPICS


def load_cluster_id(data_dir: Path, node_id: int) -> str:
    """Read the cluster id from ``meta.properties``, creating it (a random
    Kafka-style base64 UUID) on first start."""
    path = data_dir / META_FILE
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            key, _, value = line.partition("=")
            if key.strip() == "cluster.id" and value.strip():
                return value.strip()
    cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
    data_dir.mkdir(parents=True, exist_ok=True)
    _atomic_write(path, f"version=1\ncluster.id={cluster_id}\nnode.id={node_id}\n")
    return cluster_id


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    tmp.replace(path)


class TopicRegistry:
    """Create, alter and delete topics over a ``LogManager``."""

    def __init__(self, data_dir: Path, config: BrokerConfig, logs: LogManager) -> None:
        self.data_dir = data_dir
        self.config = config
        self.logs = logs
        self._lock = threading.RLock()
        self._topics: dict[str, TopicInfo] = {}
        self._load()

    # ---- persistence -----------------------------------------------------------

    def _load(self) -> None:
        path = self.data_dir / TOPICS_FILE
        if not path.exists():
            return
        data = json.loads(path.read_text(encoding="utf-8"))
        for entry in data["topics"]:
            info = TopicInfo(
                entry["name"], uuid.UUID(entry["topic_id"]), int(entry["partitions"]),
                {str(k): str(v) for k, v in entry["configs"].items()},
            )  # fmt: skip
            self._topics[info.name] = info
            log_config = self.config.topic_config(info.configs)
            for partition in range(info.partitions):
                self.logs.get_or_create_log(info.name, partition, log_config)

    def _save(self) -> None:
        topics = [
            {"name": t.name, "topic_id": str(t.topic_id), "partitions": t.partitions,
             "configs": t.configs}
            for t in sorted(self._topics.values(), key=lambda t: t.name)
        ]  # fmt: skip
        _atomic_write(self.data_dir / TOPICS_FILE, json.dumps({"topics": topics}, indent=1))

    # ---- queries ---------------------------------------------------------------

    def get(self, name: str) -> TopicInfo | None:
        """The topic called ``name``, if it exists."""
        return self._topics.get(name)

    def by_id(self, topic_id: uuid.UUID) -> TopicInfo | None:
        """The topic with ``topic_id``, if it exists."""
        return next((t for t in self._topics.values() if t.topic_id == topic_id), None)

    def topics(self) -> list[TopicInfo]:
        """Every topic, by name."""
        return sorted(self._topics.values(), key=lambda t: t.name)

    def log_config(self, name: str) -> LogConfig:
        """The effective config of topic ``name``."""
        info = self._topics.get(name)
        return self.config.topic_config(info.configs if info else {})

    # ---- changes ---------------------------------------------------------------

    def check_configs(self, configs: Mapping[str, str | None]) -> dict[str, str]:
        """Validate topic config overrides; raises ``TopicError(INVALID_CONFIG)``."""
        clean = {k: v for k, v in configs.items() if v is not None}
        try:
            self.config.topic_config(clean)
        except ConfigError as exc:
            raise TopicError(INVALID_CONFIG, str(exc)) from None
        return clean

    def create_topic(
        self,
        name: str,
        partitions: int = -1,
        replication_factor: int = -1,
        configs: Mapping[str, str | None] | None = None,
        *,
        validate_only: bool = False,
    ) -> TopicInfo:
        """Create a topic (``-1`` partitions / replication: the broker defaults).

        Raises ``TopicError`` with Kafka's codes: INVALID_TOPIC_EXCEPTION,
        TOPIC_ALREADY_EXISTS, INVALID_PARTITIONS, INVALID_REPLICATION_FACTOR,
        INVALID_CONFIG.
        """
        try:
            validate_topic_name(name)
        except ValueError as exc:
            raise TopicError(INVALID_TOPIC_EXCEPTION, str(exc)) from None
        count = self.config.get("num.partitions") if partitions == -1 else partitions
        if not 1 <= count <= _MAX_PARTITIONS:
            raise TopicError(INVALID_PARTITIONS, f"Number of partitions must be at least 1, "
                             f"got {count}")  # fmt: skip
        factor = self.config.get("default.replication.factor")
        factor = factor if replication_factor == -1 else replication_factor
        if factor != 1:
            raise TopicError(
                INVALID_REPLICATION_FACTOR,
                f"Replication factor: {factor} larger than available brokers: 1.",
            )
        clean = self.check_configs(configs or {})
        with self._lock:
            if name in self._topics:
                raise TopicError(TOPIC_ALREADY_EXISTS, f"Topic '{name}' already exists.")
            _check_collision(name, self._topics)
            info = TopicInfo(name, uuid.uuid4(), count, clean)
            if validate_only:
                return info
            log_config = self.config.topic_config(clean)
            for partition in range(count):
                self.logs.get_or_create_log(name, partition, log_config)
            self._topics[name] = info
            self._save()
            return info

    def delete_topic(self, name: str) -> TopicInfo:
        """Delete a topic and its partition logs."""
        if not self.config.get("delete.topic.enable"):
            raise TopicError(TOPIC_DELETION_DISABLED, "Topic deletion is disabled.")
        with self._lock:
            info = self._topics.pop(name, None)
            if info is None:
                raise TopicError(UNKNOWN_TOPIC_OR_PARTITION, f"Topic '{name}' does not exist.")
            self._save()
        for partition in range(info.partitions):
            self.logs.delete_log(name, partition)
        return info

    def create_partitions(self, name: str, total: int, *, validate_only: bool = False) -> None:
        """Grow ``name`` to ``total`` partitions (never shrink)."""
        with self._lock:
            info = self._topics.get(name)
            if info is None:
                raise TopicError(UNKNOWN_TOPIC_OR_PARTITION, f"Topic '{name}' does not exist.")
            if total <= info.partitions:
                raise TopicError(
                    INVALID_PARTITIONS,
                    f"Topic currently has {info.partitions} partitions, which is higher than "
                    f"or equal to the requested {total}.",
                )
            if total > _MAX_PARTITIONS:
                raise TopicError(INVALID_PARTITIONS, f"At most {_MAX_PARTITIONS} partitions")
            if validate_only:
                return
            log_config = self.config.topic_config(info.configs)
            for partition in range(info.partitions, total):
                self.logs.get_or_create_log(name, partition, log_config)
            info.partitions = total
            self._save()

    def set_configs(self, name: str, configs: Mapping[str, str | None]) -> None:
        """Replace topic ``name``'s overrides (AlterConfigs semantics)."""
        self._apply_configs(name, self.check_configs(configs))

    def alter_configs(
        self,
        name: str,
        set_: Mapping[str, str] = {},
        delete: Iterable[str] = (),
    ) -> None:
        """Change some of topic ``name``'s overrides (IncrementalAlterConfigs)."""
        info = self._require(name)
        merged = dict(info.configs)
        merged.update(set_)
        known = LogConfig.keys()
        for key in delete:
            if key not in known:
                raise TopicError(INVALID_CONFIG, f"Unknown topic config name: {key}")
            merged.pop(key, None)
        self._apply_configs(name, self.check_configs(merged))

    def _require(self, name: str) -> TopicInfo:
        info = self._topics.get(name)
        if info is None:
            raise TopicError(UNKNOWN_TOPIC_OR_PARTITION, f"Topic '{name}' does not exist.")
        return info

    def _apply_configs(self, name: str, configs: dict[str, str]) -> None:
        with self._lock:
            info = self._require(name)
            info.configs = configs
            self._save()
            log_config = self.config.topic_config(configs)
        for partition in range(info.partitions):
            log = self.logs.get_log(name, partition)
            if log is not None:
                log.update_config(log_config)


def _check_collision(name: str, topics: Mapping[str, TopicInfo]) -> None:
    """Kafka refuses names that differ only by '.' vs '_' (metric names collide)."""
    normalized = name.replace(".", "_")
    for other in topics:
        if other.replace(".", "_") == normalized:
            raise TopicError(
                INVALID_TOPIC_EXCEPTION,
                f"Topic '{name}' collides with existing topic: {other}",
            )
