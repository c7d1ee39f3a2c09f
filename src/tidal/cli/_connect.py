"""``tidal connect standalone|distributed worker.properties [connector files]``: a worker.

As Kafka's ``connect-standalone.sh``: the worker file holds worker settings by Kafka
Connect's names (``bootstrap.servers``, ``offset.storage.file.filename``, ``listeners``, the
converters ...); each connector file (Java properties, or JSON: a ``POST /connectors`` body
or a flat map) creates one connector. The REST API serves on ``listeners`` meanwhile.

``tidal connect distributed worker.properties`` joins the cluster named by ``group.id``
(configs, offsets and statuses in the internal topics); connectors are then created through
the REST API of any worker.

SIGINT and SIGTERM stop every task after a final flush and offset commit, exit status 0;
a restarted worker resumes from the offsets file. A file that cannot be read or holds a
bad setting is one line on stderr naming the file and the key, exit status 2; a worker
that cannot start (the REST port taken, say) exits 1.

The worker runs with raised garbage-collector thresholds (:mod:`tidal._gc`);
``TIDAL_GC_THRESHOLD`` sets others, or ``off`` keeps Python's. A bad value exits 2.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from tidal._gc import GcThresholdError, throughput_gc, wanted_thresholds
from tidal.cli._common import stop_on_signals
from tidal.cli._logging import setup_logging

if TYPE_CHECKING:
    from tidal.connectors.runtime import WorkerConfig

__all__ = ["connect"]

_USAGE = 2
_FAILURE = 1
_THREADS = 128


class _ExitError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _one_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) > 1 and "You can also find" in lines[-1]:
        lines = lines[:-1]
    return "; ".join(lines)


def _prepare() -> None:
    """Log as the broker and ``tidal run`` do, and find plugins in the current directory.

    A console script's ``sys.path`` starts at its own directory, not the working one; as
    ``tidal run`` does for apps, ``connector.class=counter.CounterConnector`` then finds
    ``./counter.py``.
    """
    setup_logging("warning")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())


def _load_worker(path: Path) -> WorkerConfig:
    from tidal.connectors.config import ConfigError  # noqa: PLC0415 - keeps --help light
    from tidal.connectors.runtime import ConfigFileError, WorkerConfig, load_config_file  # noqa: PLC0415

    try:
        return WorkerConfig(load_config_file(path))
    except ConfigFileError as exc:
        raise _ExitError(_USAGE, str(exc)) from None
    except ConfigError as exc:
        raise _ExitError(_USAGE, f"{path}: {exc}") from None


def _load_connector(path: Path) -> dict[str, str]:
    from tidal.connectors.runtime import ConfigFileError, load_config_file  # noqa: PLC0415

    try:
        props = load_config_file(path)
    except ConfigFileError as exc:
        raise _ExitError(_USAGE, str(exc)) from None
    if not props.get("name", "").strip():
        raise _ExitError(_USAGE, f"{path}: key 'name': a connector file must name the connector")
    if not props.get("connector.class", "").strip():
        raise _ExitError(_USAGE, f"{path}: key 'connector.class': missing")
    return props


def _validate(worker: WorkerConfig, path: Path, props: dict[str, str]) -> None:
    """Refuse a bad connector file before anything starts."""
    from tidal.connectors.runtime import (  # noqa: PLC0415
        HerderError,
        WorkerPlugins,
        invalid_config_message,
        validate_connector_config,
    )

    try:
        infos = validate_connector_config(WorkerPlugins(), worker, props)
    except HerderError as exc:
        raise _ExitError(_USAGE, f"{path}: {_one_line(exc.message)}") from None
    if infos["error_count"]:
        raise _ExitError(_USAGE, f"{path}: {_one_line(invalid_config_message(infos))}")


async def _run(
    worker_config: WorkerConfig,
    connectors: list[tuple[Path, dict[str, str]]],
    *,
    distributed: bool = False,
) -> None:
    from tidal.connectors.api import ConnectError  # noqa: PLC0415
    from tidal.connectors.rest import ConnectWorker  # noqa: PLC0415
    from tidal.connectors.runtime import HerderError  # noqa: PLC0415

    # Sync connector methods run in threads; Kafka gives each task a thread of its own, so
    # allow many more than asyncio's default (cores + 4) lest blocking tasks starve others.
    asyncio.get_running_loop().set_default_executor(
        concurrent.futures.ThreadPoolExecutor(max_workers=_THREADS, thread_name_prefix="connect")
    )
    stop = asyncio.Event()
    with stop_on_signals(stop):
        worker = ConnectWorker(worker_config, distributed=distributed)
        try:
            await worker.start()
        except (OSError, ConnectError) as exc:
            raise _ExitError(_FAILURE, str(exc)) from None
        try:
            for path, props in connectors:
                try:
                    await worker.herder.create_connector(props["name"], props)
                except HerderError as exc:
                    raise _ExitError(_USAGE, f"{path}: {_one_line(exc.message)}") from None
            if distributed:
                group = worker_config.group_id
                click.echo(f"Tidal Connect distributed worker on {worker.url} (group {group})")
            else:
                names = ", ".join(props["name"] for _, props in connectors) or "none"
                click.echo(f"Tidal Connect standalone worker on {worker.url} (connectors: {names})")
            sys.stdout.flush()
            await stop.wait()
        finally:
            await worker.stop()


def _run_worker(
    worker_config: WorkerConfig,
    connectors: list[tuple[Path, dict[str, str]]],
    *,
    distributed: bool = False,
) -> None:
    """Run the worker until stopped, with the collector tuned for throughput.

    Each record allocates a few short-lived containers; with Python's default thresholds
    the collector walked the whole worker every few hundred records, a quarter of its CPU.
    """
    try:
        wanted_thresholds()  # a bad TIDAL_GC_THRESHOLD is refused before anything starts
    except GcThresholdError as exc:
        raise _ExitError(_USAGE, str(exc)) from None
    with throughput_gc():
        asyncio.run(_run(worker_config, connectors, distributed=distributed))


@click.group()
def connect() -> None:
    """Run Kafka Connect-compatible workers."""


@connect.command("standalone")
@click.argument("worker_file", type=click.Path(path_type=Path))
@click.argument("connector_files", nargs=-1, type=click.Path(path_type=Path))
def standalone(worker_file: Path, connector_files: tuple[Path, ...]) -> None:
    """Run a standalone worker with the connectors in CONNECTOR_FILES."""
    _prepare()
    try:
        worker = _load_worker(worker_file)
        if worker.exactly_once_source:
            raise _ExitError(
                _USAGE,
                f"{worker_file}: key 'exactly.once.source.support': enabled needs distributed "
                "mode (tidal connect distributed), where source offsets live in a topic",
            )
        connectors = [(path, _load_connector(path)) for path in connector_files]
        for path, props in connectors:
            _validate(worker, path, props)
        _run_worker(worker, connectors)
    except _ExitError as exc:
        click.echo(f"Error: {exc.message}", err=True)
        raise SystemExit(exc.code) from None
    except KeyboardInterrupt:
        raise SystemExit(130) from None


@connect.command("distributed")
@click.argument("worker_file", type=click.Path(path_type=Path))
def distributed(worker_file: Path) -> None:
    """Run a worker of the cluster named by group.id; connectors are managed over REST."""
    _prepare()
    try:
        _run_worker(_load_worker(worker_file), [], distributed=True)
    except _ExitError as exc:
        click.echo(f"Error: {exc.message}", err=True)
        raise SystemExit(exc.code) from None
    except KeyboardInterrupt:
        raise SystemExit(130) from None
