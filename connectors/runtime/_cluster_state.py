"""The cluster's connectors as the config and status topics describe them.

Records of ``config.storage.topic`` (values are JSON, as Kafka Connect writes them)::

    connector-<name>              {"properties": {...}}       (null: deleted)
    target-state-<name>           {"state": "PAUSED", "state.v2": "PAUSED"}
    task-<name>-<n>               {"properties": {...}}
    commit-<name>                 {"tasks": 2}
    restart-connector-<name>      {"include-tasks": true, "only-failed": false}
    restart-task-<name>-<n>       {}                          (Tidal's own)

Records of ``status.storage.topic``::

    status-connector-<name>       {"state": "RUNNING", "trace": null, "worker_id": "h:8083",
                                   "generation": 3}
    status-task-<name>-<n>        the same, for one task

Every worker reads both topics, so any worker answers for the whole cluster.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ._status import Status, TargetState

__all__ = ["ClusterState", "ConfigChange", "status_value"]

_TARGETS = {t.value: t for t in TargetState}


@dataclass(frozen=True, slots=True)
class ConfigChange:
    """What one config record changed: its kind, the connector, and extras."""

    kind: str  # connector | target | tasks | restart-connector | restart-task
    connector: str
    value: Any = None
    task: int = -1


def _split_task(rest: str) -> tuple[str, int] | None:
    name, sep, number = rest.rpartition("-")
    if not sep or not number.isdigit():
        return None
    return name, int(number)


def status_value(status: Status) -> bytes:
    """The status topic value of ``status``."""
    return json.dumps(status.to_record(), separators=(",", ":")).encode()


@dataclass
class ClusterState:
    """Connector configs, target states, task configs and statuses of the whole cluster."""

    configs: dict[str, dict[str, str]] = field(default_factory=dict)
    targets: dict[str, TargetState] = field(default_factory=dict)
    task_configs: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    pending_tasks: dict[str, dict[int, dict[str, str]]] = field(default_factory=dict)
    statuses: dict[str, dict[str, Any]] = field(default_factory=dict)

    def apply_config(self, key: str, value: bytes | None) -> ConfigChange | None:
        """Apply one config record; what it changed, or None for records it ignores."""
        data = json.loads(value) if value is not None else None
        if key.startswith("connector-"):
            name = key.removeprefix("connector-")
            if data is None:
                self.configs.pop(name, None)
                self.targets.pop(name, None)
                self.task_configs.pop(name, None)
                self.pending_tasks.pop(name, None)
            else:
                self.configs[name] = {str(k): str(v) for k, v in data["properties"].items()}
            return ConfigChange("connector", name, data)
        if key.startswith("target-state-"):
            name = key.removeprefix("target-state-")
            if data is not None:
                state = data.get("state.v2") or data.get("state")
                self.targets[name] = _TARGETS.get(state, TargetState.STARTED)
            return ConfigChange("target", name)
        if key.startswith("task-"):
            parsed = _split_task(key.removeprefix("task-"))
            if parsed is not None and data is not None:
                self.pending_tasks.setdefault(parsed[0], {})[parsed[1]] = dict(data["properties"])
            return None
        if key.startswith("commit-"):
            name = key.removeprefix("commit-")
            count = int(data["tasks"]) if data is not None else 0
            pending = self.pending_tasks.pop(name, {})
            previous = self.task_configs.get(name, [])
            self.task_configs[name] = [
                pending.get(i) or (previous[i] if i < len(previous) else {}) for i in range(count)
            ]
            return ConfigChange("tasks", name)
        if key.startswith("restart-connector-"):
            return ConfigChange("restart-connector", key.removeprefix("restart-connector-"), data)
        if key.startswith("restart-task-"):
            parsed = _split_task(key.removeprefix("restart-task-"))
            if parsed is not None:
                return ConfigChange("restart-task", parsed[0], data, parsed[1])
        return None

    def apply_status(self, key: str, value: bytes | None) -> None:
        """Apply one status record."""
        if value is None:
            self.statuses.pop(key, None)
        else:
            self.statuses[key] = json.loads(value)

    def target(self, name: str) -> TargetState:
        """The connector's target state (STARTED unless set)."""
        return self.targets.get(name, TargetState.STARTED)

    def _status(self, key: str) -> dict[str, Any]:
        entry = self.statuses.get(key)
        if entry is None:
            return {"state": "UNASSIGNED", "worker_id": ""}
        out = {"state": entry["state"], "worker_id": entry.get("worker_id", "")}
        if entry.get("trace"):
            out["trace"] = entry["trace"]
        return out

    def state_info(self, name: str, kind: str) -> dict[str, Any]:
        """Kafka's ``ConnectorStateInfo`` from the status records."""
        connector = self._status(f"status-connector-{name}")
        tasks = []
        if self.target(name) is not TargetState.STOPPED:
            tasks = [
                {"id": i, **self._status(f"status-task-{name}-{i}")}
                for i in range(len(self.task_configs.get(name, [])))
            ]
        return {"name": name, "connector": connector, "tasks": tasks, "type": kind}

    def task_state(self, name: str, task: int) -> dict[str, Any]:
        """Kafka's ``TaskState`` from the status records."""
        return {"id": task, **self._status(f"status-task-{name}-{task}")}
