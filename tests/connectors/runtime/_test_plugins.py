"""Connectors for the runtime tests, found by their Python path like any third-party plugin."""

from __future__ import annotations

from collections.abc import Mapping

from tidal.connectors.api import RetriableError, SinkRecord, SinkTask
from tidal.connectors.builtin import (
    FileStreamSinkConnector,
    FileStreamSinkTask,
    FileStreamSourceConnector,
)


class PoisonSinkTask(FileStreamSinkTask):
    """Writes like FileStreamSink but refuses any batch holding the value ``poison``."""

    def put(self, records: list[SinkRecord]) -> None:
        if any(r.value == "poison" for r in records):
            raise ValueError("cannot write poison")
        super().put(records)


class PoisonSinkConnector(FileStreamSinkConnector):
    """A FileStreamSink whose task refuses ``poison``."""

    def task_class(self) -> type[SinkTask]:
        return PoisonSinkTask


class FlakySinkTask(FileStreamSinkTask):
    """Fails its first two puts with a RetriableError."""

    failures = 0

    def put(self, records: list[SinkRecord]) -> None:
        if FlakySinkTask.failures < 2:
            FlakySinkTask.failures += 1
            self.context.timeout(50)
            raise RetriableError("the destination is busy")
        super().put(records)


class FlakySinkConnector(FileStreamSinkConnector):
    """A FileStreamSink whose task is busy twice."""

    def task_class(self) -> type[SinkTask]:
        return FlakySinkTask


class BrokenSourceConnector(FileStreamSourceConnector):
    """A source connector that cannot start."""

    def start(self, props: Mapping[str, str]) -> None:
        raise RuntimeError("the upstream system is unreachable")
