"""What the client commands share: connection options, running, errors, tables.

``--bootstrap-server`` and ``--timeout`` are accepted on the root group and
on every command that talks to a cluster; the command's own flag wins, then
the root's, then ``TIDAL_BOOTSTRAP_SERVERS``, then ``localhost:9092``. The
values travel in ``ctx.meta``, which click shares between a context and the
contexts nested in it.

Every command runs one coroutine through :func:`run`, which turns the
client's typed errors into one line on stderr and exit status 1. Tables are
drawn with rich on a terminal and as plain aligned columns when stdout is a
pipe or a file, so that ``grep`` and ``awk`` see no box characters or colour.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import Callable, Coroutine, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import click
from rich import box
from rich.console import Console
from rich.table import Table

from tidal.log.client import ClientConfig, ConfigError
from tidal.log.protocol.errors import KafkaError

__all__ = [
    "BOOTSTRAP_ENV",
    "DEFAULT_BOOTSTRAP",
    "DEFAULT_TIMEOUT",
    "CliError",
    "Connection",
    "connection",
    "connection_options",
    "console",
    "is_terminal",
    "parse_pairs",
    "print_table",
    "root_connection_options",
    "run",
    "stop_on_signals",
]

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])

BOOTSTRAP_ENV = "TIDAL_BOOTSTRAP_SERVERS"
DEFAULT_BOOTSTRAP = "localhost:9092"
DEFAULT_TIMEOUT = 30.0
_META = "tidal.cli.connection"


class CliError(click.ClickException):
    """A failure reported as ``Error: <message>`` on stderr with exit status 1."""

    exit_code = 1


@dataclass
class Connection:
    """Where the cluster is and how long any network wait may take."""

    bootstrap_servers: str = DEFAULT_BOOTSTRAP
    timeout: float = DEFAULT_TIMEOUT

    @property
    def timeout_ms(self) -> int:
        return max(int(self.timeout * 1000), 1)

    def client_settings(self) -> dict[str, object]:
        """Settings every client takes, each wait bounded by ``timeout``."""
        ms = self.timeout_ms
        return {
            "bootstrap_servers": self.bootstrap_servers,
            "client_id": "tidal-cli",
            "request_timeout_ms": ms,
            "default_api_timeout_ms": ms,
            "socket_connection_setup_timeout_ms": ms,
            "socket_connection_setup_timeout_max_ms": ms,
        }


def _state(ctx: click.Context) -> Connection:
    state = ctx.meta.get(_META)
    if not isinstance(state, Connection):
        state = Connection()
        ctx.meta[_META] = state
    return state


def _set_bootstrap(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is not None:
        _state(ctx).bootstrap_servers = value


def _set_timeout(ctx: click.Context, param: click.Parameter, value: float | None) -> None:
    if value is not None:
        _state(ctx).timeout = value


def root_connection_options(f: F) -> F:
    """``--bootstrap-server`` (or the environment, or the default) and ``--timeout``
    on the root group."""
    f = click.option(
        "--timeout",
        type=click.FloatRange(min=0, min_open=True),
        default=DEFAULT_TIMEOUT,
        show_default=True,
        expose_value=False,
        callback=_set_timeout,
        metavar="SECONDS",
        help="Bound of every network wait.",
    )(f)
    return click.option(
        "--bootstrap-server",
        "-b",
        envvar=BOOTSTRAP_ENV,
        show_envvar=True,
        default=DEFAULT_BOOTSTRAP,
        show_default=True,
        expose_value=False,
        callback=_set_bootstrap,
        metavar="HOST:PORT[,...]",
        help="Brokers to bootstrap from.",
    )(f)


def connection_options(f: F) -> F:
    """The same options on a command; given there, they override the root's."""
    f = click.option(
        "--timeout",
        type=click.FloatRange(min=0, min_open=True),
        expose_value=False,
        callback=_set_timeout,
        metavar="SECONDS",
        help="Bound of every network wait [30].",
    )(f)
    return click.option(
        "--bootstrap-server",
        "-b",
        expose_value=False,
        callback=_set_bootstrap,
        metavar="HOST:PORT[,...]",
        help=f"Brokers to bootstrap from [${BOOTSTRAP_ENV} or {DEFAULT_BOOTSTRAP}].",
    )(f)


def connection() -> Connection:
    """The connection settings of the running command.

    The address is checked here rather than when parsed, so that a malformed
    ``$TIDAL_BOOTSTRAP_SERVERS`` troubles only the commands that use it."""
    state = _state(click.get_current_context())
    try:
        ClientConfig.build(bootstrap_servers=state.bootstrap_servers)
    except ConfigError as exc:
        message = str(exc).removeprefix("setting 'bootstrap_servers': ")
        raise click.BadParameter(message, param_hint="--bootstrap-server") from None
    return state


def _message(exc: BaseException) -> str:
    text = str(exc).strip()
    if isinstance(exc, KafkaError) and not text:
        text = exc.default_message or type(exc).__name__
    return " ".join(text.split()) or type(exc).__name__


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a command's coroutine; client errors become :class:`CliError`."""
    try:
        return asyncio.run(coro)
    except KafkaError as exc:
        raise CliError(_message(exc)) from None
    except ConfigError as exc:
        raise click.UsageError(_message(exc)) from None
    except KeyboardInterrupt:
        raise SystemExit(130) from None


@contextlib.contextmanager
def stop_on_signals(stop: asyncio.Event) -> Iterator[None]:
    """Set ``stop`` on SIGINT and SIGTERM while the block runs, so a long
    command (consume, perf) can finish its work (commit, summary) first."""
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        # Only the main thread may install handlers; elsewhere Ctrl-C keeps
        # its default behaviour.
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
    try:
        yield
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


def parse_pairs(values: Sequence[str], option: str) -> dict[str, str]:
    """``k=v`` arguments as a dict; a malformed one is a usage error naming it."""
    out: dict[str, str] = {}
    for pair in values:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{pair!r} is not key=value", param_hint=option)
        out[key.strip()] = value
    return out


# -- output ----------------------------------------------------------------------


def is_terminal() -> bool:
    """Whether stdout is a terminal (rich tables) rather than a pipe (plain text)."""
    return sys.stdout.isatty()


def console() -> Console:
    """A rich console on the current stdout, styled only on a terminal."""
    terminal = is_terminal()
    return Console(file=sys.stdout, force_terminal=terminal, no_color=not terminal)


def print_table(
    headers: Sequence[str], rows: Sequence[Sequence[object]], *, title: str | None = None
) -> None:
    """A table: rich on a terminal; on a pipe, columns aligned with two spaces
    and an upper-case header line (``kafka-consumer-groups.sh`` style)."""
    cells = [["-" if c is None else str(c) for c in row] for row in rows]
    if is_terminal():
        table = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left")
        for h in headers:
            table.add_column(h, overflow="fold")
        for row in cells:
            table.add_row(*row)
        console().print(table)
        return
    if title:
        click.echo(title)
    names = [h.upper().replace(" ", "-") for h in headers]
    widths = [max([len(n)] + [len(r[i]) for r in cells]) for i, n in enumerate(names)]
    for row in [names, *cells]:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
