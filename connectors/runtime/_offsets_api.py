"""KIP-875 offsets: reading, altering and resetting a connector's offsets.

Source connectors keep ``{partition} -> {offset}`` in the worker's offset store. Every sink
uses one format, its consumer group's committed offsets::

    {"partition": {"kafka_topic": "orders", "kafka_partition": 0},
     "offset": {"kafka_offset": 42}}

Altering and resetting need a STOPPED connector (the herder checks). The connector's own
``alter_offsets`` sees the change first and may reject it; its answer picks Kafka's
message (whether the connector also manages offsets outside Kafka).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from tidal.connectors.api import SinkConnector, SourceConnector, TopicPartition, invoke
from tidal.connectors.config import ConfigError
from tidal.log.client.admin import AdminClient
from tidal.log.client.consumer import TopicPartition as ClientTopicPartition
from tidal.log.protocol.errors import GroupIdNotFoundError, KafkaError

from ._offsets import FrozenPartition, Offset, Partition, partition_id
from ._sink import sink_group_id
from ._status import BadRequestError, HerderError

if TYPE_CHECKING:
    from ._herder import Herder


class ConnectorDescription(Protocol):
    """What the offsets operations need to know of a connector."""

    @property
    def name(self) -> str:
        """The connector's name."""

    @property
    def type(self) -> str:
        """``source`` or ``sink``."""

    @property
    def config(self) -> dict[str, str]:
        """The connector's configuration."""


__all__ = ["ConnectorDescription", "OffsetsApi"]

_TOPIC, _PARTITION, _OFFSET = "kafka_topic", "kafka_partition", "kafka_offset"


def _message(connector_managed: bool, what: str) -> dict[str, str]:
    if connector_managed:
        return {"message": f"The offsets for this connector have been {what} successfully"}
    return {
        "message": f"The Connect framework-managed offsets for this connector have been {what} "
        "successfully. However, if this connector manages offsets externally, they will need "
        f"to be manually {what} in the system that the connector uses."
    }


def _parse_body(body: Any) -> list[tuple[Partition, Offset | None]]:
    if not isinstance(body, Mapping) or body.get("offsets") is None:
        raise BadRequestError("The 'offsets' field must be a list of partitions and offsets")
    entries = body["offsets"]
    if not isinstance(entries, list) or not entries:
        raise BadRequestError("Offsets to alter must be specified")
    parsed: list[tuple[Partition, Offset | None]] = []
    for entry in entries:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("partition"), Mapping):
            raise BadRequestError("Partitions must be JSON objects and cannot be null")
        offset = entry.get("offset")
        if offset is not None and not isinstance(offset, Mapping):
            raise BadRequestError("Offsets must be JSON objects or null")
        parsed.append((dict(entry["partition"]), dict(offset) if offset is not None else None))
    return parsed


def _sink_partition(
    partition: Partition, offset: Offset | None
) -> tuple[TopicPartition, int | None]:
    topic, number = partition.get(_TOPIC), partition.get(_PARTITION)
    if not isinstance(topic, str) or not topic:
        raise BadRequestError(
            f"Partition objects for sink connectors must contain the key '{_TOPIC}'"
        )
    if not isinstance(number, int) or isinstance(number, bool) or number < 0:
        raise BadRequestError(
            "Partition objects for sink connectors must contain a non-negative integer "
            f"'{_PARTITION}'"
        )
    if offset is None:
        return TopicPartition(topic, number), None
    value = offset.get(_OFFSET)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise BadRequestError(
            f"Offset objects for sink connectors must contain a non-negative integer '{_OFFSET}'"
        )
    return TopicPartition(topic, number), value


class OffsetsApi:
    """The offsets operations of a herder."""

    def __init__(self, herder: Herder) -> None:
        self.herder = herder

    def _admin(self) -> AdminClient:
        return AdminClient(self.herder.worker.client_settings("admin"))

    async def get(self, runner: ConnectorDescription) -> dict[str, Any]:
        """``{"offsets": [{"partition": ..., "offset": ...}]}``."""
        if runner.type == "source":
            entries = self.herder.offsets.offsets(runner.name)
            return {"offsets": [{"partition": p, "offset": o} for p, o in entries]}
        try:
            async with self._admin() as admin:
                committed = await admin.list_group_offsets(sink_group_id(runner.name))
        except GroupIdNotFoundError:
            committed = {}
        except KafkaError as exc:
            raise HerderError(f"Failed to retrieve consumer group offsets: {exc}") from exc
        return {
            "offsets": [
                {
                    "partition": {_TOPIC: tp.topic, _PARTITION: tp.partition},
                    "offset": {_OFFSET: om.offset},
                }
                for tp, om in sorted(committed.items())
                if om.offset >= 0
            ]
        }

    async def alter(self, runner: ConnectorDescription, body: Any) -> dict[str, str]:
        """Apply ``body`` (the GET shape; an offset of null resets that partition)."""
        entries = _parse_body(body)
        connector = self.herder.plugins.new_connector(runner.config["connector.class"])
        if isinstance(connector, SourceConnector):
            changes = {FrozenPartition(p): o for p, o in entries}
            managed = await self._check(connector.alter_offsets, runner.config, changes)
            await self.herder.offsets.write(
                runner.name, {partition_id(p): (p, o) for p, o in entries}
            )
            return _message(managed, "altered")
        assert isinstance(connector, SinkConnector)
        parsed = dict(_sink_partition(p, o) for p, o in entries)
        managed = await self._check(connector.alter_offsets, runner.config, parsed)
        to_set = {ClientTopicPartition(*tp): o for tp, o in parsed.items() if o is not None}
        to_delete = [ClientTopicPartition(*tp) for tp, o in parsed.items() if o is None]
        group = sink_group_id(runner.name)
        try:
            async with self._admin() as admin:
                if to_set:
                    await admin.alter_group_offsets(group, to_set)
                if to_delete:
                    with contextlib.suppress(GroupIdNotFoundError):
                        await admin.delete_group_offsets(group, to_delete)
        except KafkaError as exc:
            raise HerderError(f"Failed to alter consumer group offsets: {exc}") from exc
        return _message(managed, "altered")

    async def reset(self, runner: ConnectorDescription) -> dict[str, str]:
        """Forget every offset of the connector."""
        connector = self.herder.plugins.new_connector(runner.config["connector.class"])
        if isinstance(connector, SourceConnector):
            entries = self.herder.offsets.offsets(runner.name)
            changes = {FrozenPartition(p): None for p, _ in entries}
            managed = await self._check(connector.alter_offsets, runner.config, changes)
            await self.herder.offsets.clear(runner.name)
            return _message(managed, "reset")
        assert isinstance(connector, SinkConnector)
        group = sink_group_id(runner.name)
        try:
            async with self._admin() as admin:
                try:
                    committed = await admin.list_group_offsets(group)
                except GroupIdNotFoundError:
                    committed = {}
                sink_changes = {TopicPartition(*tp): None for tp in committed}
                managed = await self._check(connector.alter_offsets, runner.config, sink_changes)
                if committed:
                    await admin.delete_groups([group])
        except KafkaError as exc:
            raise HerderError(f"Failed to reset consumer group offsets: {exc}") from exc
        return _message(managed, "reset")

    @staticmethod
    async def _check(method: Any, config: Mapping[str, str], changes: Any) -> bool:
        try:
            return bool(await invoke(method, config, changes))
        except (ConfigError, ValueError) as exc:
            raise BadRequestError(str(exc)) from exc
