"""What a distributed worker answers: reads from the cluster's topics, writes through them.

Any worker answers any request. Reads come from the config and status topics as this
worker has read them (so a status may lag a moment, as in Kafka Connect); writes go to the
config topic, and the call returns once this worker has read the write back.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ._cluster_state import ClusterState
from ._herder import Herder, restart_plan
from ._plugins import connector_type, invalid_config_message
from ._status import BadRequestError, ConflictError, NotFoundError, TargetState
from ._task import TaskId
from ._topic_log import TopicLog, TopicOffsetStore

__all__ = ["ClusterRequests", "config_json"]


def config_json(value: Any) -> bytes:
    """A config or status topic value, compact JSON as Kafka writes it."""
    return json.dumps(value, separators=(",", ":")).encode()


@dataclass(frozen=True, slots=True)
class _Description:
    name: str
    type: str
    config: dict[str, str]


class ClusterRequests(Herder):
    """The herder operations of a distributed worker (see :class:`DistributedHerder`)."""

    cluster: ClusterState
    config_log: TopicLog
    offsets: TopicOffsetStore

    # -- reading: the cluster's view ------------------------------------------------------

    def connectors(self) -> list[str]:
        """Every connector of the cluster."""
        return sorted(self.cluster.configs)

    def _config(self, name: str, message: str | None = None) -> dict[str, str]:
        config = self.cluster.configs.get(name)
        if config is None:
            raise NotFoundError(message or f"Connector {name} not found")
        return config

    def _type(self, name: str) -> str:
        try:
            return connector_type(
                self.plugins.connector_class(self._config(name)["connector.class"])
            )
        except LookupError:
            return "unknown"

    def connector_info(self, name: str) -> dict[str, Any]:
        """Kafka's ``ConnectorInfo`` from the config topic."""
        config = self._config(name)
        count = len(self.cluster.task_configs.get(name, []))
        return {"name": name, "config": dict(config),
                "tasks": [TaskId(name, i).to_json() for i in range(count)],
                "type": self._type(name)}  # fmt: skip

    def connector_config(self, name: str) -> dict[str, str]:
        """The connector's configuration."""
        return dict(self._config(name))

    def connector_status(self, name: str) -> dict[str, Any]:
        """Kafka's ``ConnectorStateInfo`` from the status topic."""
        self._config(name, f"No status found for connector {name}")
        return self.cluster.state_info(name, self._type(name))

    def task_configs(self, name: str) -> list[dict[str, Any]]:
        """Kafka's ``TaskInfo`` list from the config topic."""
        self._config(name)
        return [{"id": TaskId(name, i).to_json(), "config": dict(c)}
                for i, c in enumerate(self.cluster.task_configs.get(name, []))]  # fmt: skip

    def task_status(self, name: str, task: int) -> dict[str, Any]:
        """Kafka's ``TaskState`` from the status topic."""
        if name not in self.cluster.configs or not 0 <= task < len(
            self.cluster.task_configs.get(name, [])
        ):
            raise NotFoundError(f"No status found for task {TaskId(name, task)}")
        return self.cluster.task_state(name, task)

    def active_topics(self, name: str) -> dict[str, Any]:
        """Topics used, as far as this worker saw them."""
        self._config(name)
        runner = self._runners.get(name)
        topics = sorted(runner.active_topics()) if runner is not None else []
        return {name: {"connector": name, "topics": topics}}

    def reset_active_topics(self, name: str) -> None:
        """Forget the topics a connector running here used."""
        self._config(name)
        if name in self._runners:
            super().reset_active_topics(name)

    # -- writing: through the config topic ---------------------------------------------------

    async def _write(self, key: str, value: Any) -> None:
        data = None if value is None else config_json(value)
        metadata = await self.config_log.send(key.encode(), data)
        await self.config_log.wait_until(metadata)

    async def put_connector_config(
        self,
        name: str,
        config: Mapping[str, str],
        *,
        allow_replace: bool = True,
        initial_state: str | None = None,
    ) -> tuple[bool, dict[str, Any]]:
        """Write the config to the config topic; every worker applies it."""
        props = {str(k): str(v) for k, v in config.items()}
        if props.get("name", name) != name:
            raise BadRequestError(
                f"Connector name configuration ({props['name']}) doesn't match connector name "
                f"in the URL ({name})"
            )
        props["name"] = name
        infos = self.validate(props)
        if infos["error_count"]:
            raise BadRequestError(invalid_config_message(infos))
        exists = name in self.cluster.configs
        if exists and not allow_replace:
            raise ConflictError(f"Connector {name} already exists")
        if initial_state is not None and not exists:
            state = {"RUNNING": "STARTED"}.get(initial_state.upper(), initial_state.upper())
            if state not in TargetState.__members__:
                raise BadRequestError(f"Invalid initial state {initial_state}")
            await self._write(f"target-state-{name}", {"state": state, "state.v2": state})
        await self._write(f"connector-{name}", {"properties": props})
        return not exists, self.connector_info(name)

    async def delete_connector(self, name: str) -> None:
        """Delete the connector cluster-wide; its offsets are kept."""
        self._config(name)
        await self._write(f"connector-{name}", None)
        await self._write(f"target-state-{name}", None)

    async def _target(self, name: str, target: TargetState, message: str | None = None) -> None:
        self._config(name, message)
        await self._write(f"target-state-{name}", {"state": target.value, "state.v2": target.value})

    async def pause_connector(self, name: str) -> None:
        """Pause on whichever worker runs it."""
        await self._target(name, TargetState.PAUSED, f"Unknown connector {name}")

    async def resume_connector(self, name: str) -> None:
        """Resume on whichever worker runs it."""
        await self._target(name, TargetState.STARTED, f"Unknown connector {name}")

    async def stop_connector(self, name: str) -> None:
        """Stop on whichever worker runs it."""
        await self._target(name, TargetState.STOPPED)

    async def restart_connector(self, name: str) -> None:
        """Ask the owning worker to restart the connector instance."""
        self._config(name)
        await self._write(f"restart-connector-{name}",
                          {"include-tasks": False, "only-failed": False})  # fmt: skip

    async def restart_connector_and_tasks(
        self, name: str, *, only_failed: bool, include_tasks: bool
    ) -> dict[str, Any]:
        """Ask the owning worker for a KIP-745 restart; answers the planned states."""
        answer, _, _ = restart_plan(self.connector_status(name), only_failed=only_failed,
                                    include_tasks=include_tasks)  # fmt: skip
        await self._write(f"restart-connector-{name}",
                          {"include-tasks": include_tasks, "only-failed": only_failed})  # fmt: skip
        return answer

    async def restart_task(self, name: str, task: int) -> None:
        """Ask the owning worker to restart one task."""
        self._config(name)
        if not 0 <= task < len(self.cluster.task_configs.get(name, [])):
            raise NotFoundError(f"Task {TaskId(name, task)} not found")
        await self._write(f"restart-task-{name}-{task}", {})

    # -- offsets --------------------------------------------------------------------------

    def _described(self, name: str) -> _Description:
        return _Description(name, self._type(name), dict(self._config(name)))

    async def connector_offsets(self, name: str) -> dict[str, Any]:
        """Offsets from the offsets topic (source) or the consumer group (sink)."""
        described = self._described(name)
        await self.offsets.refresh()
        return await self._offsets_api.get(described)

    def _stopped_description(self, name: str) -> _Description:
        described = self._described(name)
        state = self.cluster.state_info(name, described.type)
        if (
            self.cluster.target(name) is not TargetState.STOPPED
            or state["connector"]["state"] != "STOPPED"
        ):
            raise BadRequestError(
                "Connectors must be in the STOPPED state before their offsets can be modified. "
                "This can be done for the specified connector by issuing a 'PUT' request to "
                f"the '/connectors/{name}/stop' endpoint"
            )
        return described

    async def alter_connector_offsets(self, name: str, body: Any) -> dict[str, str]:
        """``PATCH /connectors/{name}/offsets`` on a STOPPED connector."""
        return await self._offsets_api.alter(self._stopped_description(name), body)

    async def reset_connector_offsets(self, name: str) -> dict[str, str]:
        """``DELETE /connectors/{name}/offsets`` on a STOPPED connector."""
        described = self._stopped_description(name)
        await self.offsets.refresh()
        return await self._offsets_api.reset(described)
