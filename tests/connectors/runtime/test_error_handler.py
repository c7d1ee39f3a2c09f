"""ErrorHandler alone: retries within errors.retry.timeout, tolerance, counting."""

from __future__ import annotations

import time

import pytest

from tidal.connectors.api import RetriableError
from tidal.connectors.runtime import (
    ConnectMetrics,
    ErrorHandler,
    ErrorSettings,
    Stage,
    ToleranceExceededError,
)
from tidal.connectors.runtime._errors import SKIP


def _handler(**settings: str) -> tuple[ErrorHandler, ConnectMetrics]:
    metrics = ConnectMetrics()
    handler = ErrorHandler(
        ErrorSettings.from_config(settings), "c-0", metrics.task("c", 0), initial_backoff_ms=10
    )
    return handler, metrics


def _flaky(failures: int) -> tuple[list[int], object]:
    calls: list[int] = []

    def operation() -> str:
        calls.append(1)
        if len(calls) <= failures:
            raise RetriableError("busy")
        return "done"

    return calls, operation


def test_settings_use_kafkas_names_and_defaults() -> None:
    assert ErrorSettings.from_config({}) == ErrorSettings()
    parsed = ErrorSettings.from_config({
        "errors.tolerance": "all", "errors.retry.timeout": "-1",
        "errors.deadletterqueue.topic.name": " dlq ",
        "errors.deadletterqueue.context.headers.enable": "true",
    })  # fmt: skip
    assert (parsed.tolerance_all, parsed.retry_timeout_ms, parsed.dlq_topic) == (True, -1, "dlq")
    assert parsed.dlq_context_headers


async def test_retriable_errors_are_retried_within_the_timeout() -> None:
    handler, _ = _handler(**{"errors.retry.timeout": "5000"})
    calls, operation = _flaky(3)
    assert await handler.run(Stage.TRANSFORMATION, "T", operation) == "done"  # type: ignore[arg-type]
    assert len(calls) == 4


async def test_without_retries_the_first_failure_counts() -> None:
    handler, metrics = _handler()
    calls, operation = _flaky(1)
    with pytest.raises(ToleranceExceededError, match="Tolerance exceeded") as info:
        await handler.run(Stage.KEY_CONVERTER, "K", operation)  # type: ignore[arg-type]
    assert isinstance(info.value.__cause__, RetriableError)
    assert len(calls) == 1
    assert (
        'tidal_connect_record_errors_total{connector="c",stage="KEY_CONVERTER",task="0"} 1.0'
        in metrics.render().decode()
    )


async def test_the_retry_timeout_bounds_the_retries() -> None:
    handler, _ = _handler(**{"errors.retry.timeout": "100", "errors.tolerance": "all"})
    calls, operation = _flaky(1000)
    started = time.monotonic()
    assert await handler.run(Stage.TASK_PUT, "P", operation) is SKIP  # type: ignore[arg-type]
    assert time.monotonic() - started < 2
    assert 2 <= len(calls) < 50


async def test_tolerance_all_skips_other_errors_at_once() -> None:
    handler, metrics = _handler(**{"errors.tolerance": "all", "errors.retry.timeout": "-1"})

    def broken() -> None:
        raise ValueError("bad record")

    assert await handler.run(Stage.VALUE_CONVERTER, "V", broken) is SKIP
    text = metrics.render().decode()
    assert 'tidal_connect_records_skipped_total{connector="c",task="0"} 1.0' in text


async def test_async_operations() -> None:
    handler, _ = _handler()

    async def operation() -> int:
        return 7

    assert await handler.run(Stage.TASK_PUT, "P", operation) == 7
