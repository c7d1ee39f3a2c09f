"""``tidal broker start``: run a Tidal broker in the foreground.

Settings, lowest precedence first: Kafka's defaults, ``--config
server.properties``, ``--set key=value``, then the flags (``--data-dir`` is
``log.dirs``, ``--listen`` is ``listeners``, ``--advertise`` is
``advertised.listeners``). Once the socket accepts connections the command
prints ``tidal broker ready on HOST:PORT`` (the address clients are given).
SIGINT or SIGTERM shuts down cleanly (connections closed, logs flushed,
clean-shutdown marker written) and exits 0. A bad flag, setting or config
file is reported naming it, with exit status 2; a data directory another
broker holds (its ``.lock``), or an address that cannot be bound, is one
error line and exit status 1.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from pathlib import Path

import click

from tidal.cli._logging import setup_logging
from tidal.log.broker._config import BrokerConfig
from tidal.log.broker._metrics import BrokerMetrics, PrometheusMetrics
from tidal.log.broker._server import BrokerServer, parse_address
from tidal.log.storage import ConfigError, DataDirInUseError

__all__ = ["broker"]

_log = logging.getLogger("tidal.broker")


def _address(option: str, value: str | None) -> tuple[str, int] | None:
    if value is None:
        return None
    try:
        return parse_address(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=option) from None


def _settings(pairs: tuple[str, ...]) -> dict[str, object]:
    props: dict[str, object] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{pair!r} is not key=value", param_hint="--set")
        props[key.strip()] = value.strip()
    return props


def _load_config(
    config_file: Path | None, sets: tuple[str, ...], data_dir: Path | None
) -> BrokerConfig:
    overrides = _settings(sets)
    if data_dir is not None:
        overrides["log.dirs"] = str(data_dir)
    try:
        if config_file is not None:
            return BrokerConfig.from_file(config_file, overrides)
        return BrokerConfig(overrides)
    except ConfigError as exc:
        raise click.UsageError(f"bad configuration: {exc}") from None


async def _serve(server: BrokerServer, metrics_port: int | None) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await server.start()
    metrics = server.metrics
    if metrics_port is not None and isinstance(metrics, PrometheusMetrics):
        bound = metrics.serve(metrics_port, server.listen[0] or "0.0.0.0")  # noqa: S104
        _log.info("metrics on port %d", bound)
    click.echo(f"tidal broker ready on {server.bootstrap_servers}")
    sys.stdout.flush()
    try:
        await stop.wait()
        _log.info("shutting down")
    finally:
        await server.stop()
        if isinstance(metrics, PrometheusMetrics):
            metrics.close()


@click.group()
def broker() -> None:
    """Run a Kafka-compatible Tidal broker."""


@broker.command()
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the log lives (log.dirs; default ./tidal-data).",
)
@click.option("--listen", metavar="HOST:PORT", help="Address to listen on [127.0.0.1:9092].")
@click.option("--advertise", metavar="HOST:PORT", help="Address given to clients.")
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A Kafka server.properties file.",
)
@click.option(
    "--set", "sets", multiple=True, metavar="KEY=VALUE", help="A broker setting (repeatable)."
)
@click.option(
    "--metrics-port", type=click.IntRange(0, 65535), help="Serve Prometheus metrics here."
)
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default="info",
    show_default=True,
)
@click.option(
    "--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True
)
def start(
    data_dir: Path | None,
    listen: str | None,
    advertise: str | None,
    config_file: Path | None,
    sets: tuple[str, ...],
    metrics_port: int | None,
    log_level: str,
    log_format: str,
) -> None:
    """Start a broker in the foreground; SIGINT or SIGTERM stops it cleanly."""
    listen_at = _address("--listen", listen)
    advertise_at = _address("--advertise", advertise)
    config = _load_config(config_file, sets, data_dir)
    if listen_at is None and not config.is_explicit("listeners"):
        listen_at = ("127.0.0.1", 9092)
    setup_logging(log_level, log_format)
    metrics: BrokerMetrics = PrometheusMetrics() if metrics_port is not None else BrokerMetrics()
    try:
        server = BrokerServer(config, listen=listen_at, advertise=advertise_at, metrics=metrics)
    except ValueError as exc:
        raise click.UsageError(f"bad configuration: {exc}") from None
    try:
        asyncio.run(_serve(server, metrics_port))
    except DataDirInUseError as exc:
        _log.error("cannot start: %s", exc)
        raise SystemExit(1) from None
    except OSError as exc:
        _log.error("cannot serve: %s", exc)
        raise SystemExit(1) from None
