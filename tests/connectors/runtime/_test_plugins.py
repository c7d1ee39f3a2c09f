"""Connectors for the runtime tests, found by their Python path like any third-party plugin."""

from __future__ import annotations

import time
from collections.abc import Mapping

from tidal.connectors.api import (
    ConnectorTransactionBoundaries,
    ExactlyOnceSupport,
    RetriableError,
    Schema,
    SinkRecord,
    SinkTask,
    SourceConnector,
    SourceRecord,
    SourceTask,
)
from tidal.connectors.builtin import (
    FileStreamSinkConnector,
    FileStreamSinkTask,
    FileStreamSourceConnector,
)
from tidal.connectors.config import ConfigDef


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


class CountingSourceTask(SourceTask):
    """Emits ``0 .. count-1``; commits a transaction after every third record and aborts
    the one holding record 4 (``transaction.boundary=connector``)."""

    def version(self) -> str:
        return "1"

    def start(self, props: Mapping[str, str]) -> None:
        self.topic = props["topic"]
        self.count = int(props["count"])
        stored = self.context.offset_storage_reader.offset({"counter": "c"})
        self.next = stored["n"] + 1 if stored else 0

    def poll(self) -> list[SourceRecord] | None:
        if self.next >= self.count:
            time.sleep(0.05)
            return None
        n, self.next = self.next, self.next + 1
        record = SourceRecord(
            topic=self.topic, value=str(n), value_schema=Schema.STRING_SCHEMA,
            source_partition={"counter": "c"}, source_offset={"n": n},
        )  # fmt: skip
        transactions = self.context.transaction_context
        if n == 4:
            transactions.abort_transaction(record)
        elif n % 3 == 2:
            transactions.commit_transaction(record)
        return [record]

    def stop(self) -> None:
        return


class CountingSourceConnector(SourceConnector):
    """A source that defines its own transaction boundaries."""

    def version(self) -> str:
        return "1"

    def start(self, props: Mapping[str, str]) -> None:
        self.props = dict(props)

    def task_class(self) -> type[SourceTask]:
        return CountingSourceTask

    def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        return [dict(self.props)]

    def stop(self) -> None:
        return

    def config(self) -> ConfigDef:
        return ConfigDef()

    def exactly_once_support(self, props: Mapping[str, str]) -> ExactlyOnceSupport | None:
        return ExactlyOnceSupport.SUPPORTED

    def can_define_transaction_boundaries(
        self, props: Mapping[str, str]
    ) -> ConnectorTransactionBoundaries:
        return ConnectorTransactionBoundaries.SUPPORTED
