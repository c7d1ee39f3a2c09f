"""Connector and task states, their status entries, and the target a user asked for.

The states are Kafka Connect's: ``UNASSIGNED`` (known but not started here), ``RUNNING``,
``PAUSED``, ``STOPPED`` (connectors only: the tasks are shut down), ``FAILED`` (with the
error's trace) and ``RESTARTING``. A status entry renders as Kafka's ``ConnectorState`` /
``TaskState``::

    {"state": "FAILED", "worker_id": "127.0.0.1:8083", "trace": "Traceback ..."}

``TargetState`` is what the user asked for through pause/resume/stop, which the worker
then drives the connector and its tasks towards. Operations the worker refuses raise a
:class:`HerderError` carrying the HTTP status the REST API answers with, and Kafka Connect's
message (``Connector x not found``, ``Connector x already exists``).
"""

from __future__ import annotations

import enum
import traceback
from dataclasses import dataclass
from typing import Any

__all__ = [
    "BadRequestError",
    "ConflictError",
    "HerderError",
    "NotFoundError",
    "State",
    "Status",
    "TargetState",
    "trace_of",
]


class State(enum.Enum):
    """Kafka Connect's ``AbstractStatus.State``."""

    UNASSIGNED = "UNASSIGNED"
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    STOPPED = "STOPPED"
    FAILED = "FAILED"
    RESTARTING = "RESTARTING"
    DESTROYED = "DESTROYED"


class TargetState(enum.Enum):
    """What a connector should be doing (Kafka's ``TargetState``)."""

    STARTED = "STARTED"
    PAUSED = "PAUSED"
    STOPPED = "STOPPED"

    @property
    def running_state(self) -> State:
        """The state a healthy connector in this target shows."""
        return {
            TargetState.STARTED: State.RUNNING,
            TargetState.PAUSED: State.PAUSED,
            TargetState.STOPPED: State.STOPPED,
        }[self]


def trace_of(error: BaseException) -> str:
    """The full trace of ``error`` (with its causes), as Kafka shows a Java stack trace."""
    return "".join(traceback.format_exception(error)).rstrip("\n")


@dataclass(slots=True)
class Status:
    """The status of one connector or task on one worker."""

    state: State
    worker_id: str
    trace: str | None = None
    generation: int = 0

    def to_json(self) -> dict[str, Any]:
        """Kafka's ``AbstractState`` JSON (``trace`` only when there is one)."""
        body: dict[str, Any] = {"state": self.state.value, "worker_id": self.worker_id}
        if self.trace:
            body["trace"] = self.trace
        return body

    def to_record(self) -> dict[str, Any]:
        """Every field, as the status topic stores it (and task processes report it):
        ``{"state", "trace", "worker_id", "generation"}``."""
        return {"state": self.state.value, "trace": self.trace, "worker_id": self.worker_id,
                "generation": self.generation}  # fmt: skip

    @classmethod
    def from_record(cls, body: dict[str, Any]) -> Status:
        """The status :meth:`to_record` gave."""
        return cls(State(body["state"]), str(body["worker_id"]), body.get("trace"),
                   int(body.get("generation", 0)))  # fmt: skip

    @classmethod
    def failed(cls, worker_id: str, error: BaseException, generation: int = 0) -> Status:
        """A FAILED status carrying ``error``'s trace."""
        return cls(State.FAILED, worker_id, trace_of(error), generation)


class HerderError(Exception):
    """A request the worker refuses; ``status`` is the HTTP status code."""

    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFoundError(HerderError):
    """An unknown connector, task or plugin (404)."""

    status = 404


class ConflictError(HerderError):
    """A duplicate connector, or a request made during a rebalance (409)."""

    status = 409


class BadRequestError(HerderError):
    """An invalid configuration or request body (400)."""

    status = 400
