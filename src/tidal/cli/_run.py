"""``tidal run MODULE:APP``: run a streams application in the foreground.

``MODULE`` is imported (the current directory first on ``sys.path``, as
``python -m`` does) and ``APP`` is an :class:`~tidal.streams.App` in it, or a
function returning one. Flags and environment variables override the App's
own settings; what neither names keeps the App's value:

=======================  ===============================  ==========================
flag                     environment                      App setting
=======================  ===============================  ==========================
``--bootstrap-server``   ``TIDAL_BOOTSTRAP_SERVERS``      ``bootstrap_servers``
``--state-dir``          ``TIDAL_STATE_DIR``              ``state_dir``
``--application-id``     ``TIDAL_APPLICATION_ID``         ``application_id``
``--commit-interval-ms`` ``TIDAL_COMMIT_INTERVAL_MS``     ``commit_interval_ms``
``--processing-guarantee`` ``TIDAL_PROCESSING_GUARANTEE`` ``processing_guarantee``
=======================  ===============================  ==========================

SIGINT (Ctrl-C) and SIGTERM stop the app after a final commit, exit status 0;
SIGTERM before the app started (while the module loads) stops it the same way,
with nothing to commit.
A ``MODULE:APP`` that cannot be found or is not an App, or a bad setting, is
one line on stderr and exit status 2; an app that fails while running (a
record a user function cannot process, say) exits 1 with the error.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import logging
import os
import signal
import sys
import time
from collections.abc import Iterator
from typing import Any

import click
from click.core import ParameterSource

from tidal._gc import wanted_thresholds
from tidal.cli._common import connection

__all__ = ["load_app", "run_app"]

_log = logging.getLogger("tidal.streams.runtime")


class _LoadError(Exception):
    """``MODULE:APP`` does not lead to an App."""


def load_app(target: str) -> Any:
    """The App that ``MODULE:APP`` names (calling APP if it is a factory)."""
    from tidal.streams import App  # noqa: PLC0415 - keeps `tidal --help` light

    module_name, sep, attr = target.partition(":")
    if not sep or not module_name or not attr:
        raise _LoadError(f"'{target}' is not MODULE:APP (for example: wordcount:app)")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        if e.name is not None and module_name.startswith(e.name):
            raise _LoadError(f"no module named '{module_name}'") from None
        raise
    obj: Any = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise _LoadError(f"module '{module_name}' has no attribute '{attr}'")
        obj = getattr(obj, part)
    if isinstance(obj, type):
        raise _LoadError(
            f"'{target}' is a class, not an App instance: name an instance "
            f"(app = {obj.__name__}(...) in {module_name}) or a function returning one"
        )
    if not isinstance(obj, App) and callable(obj):
        try:
            inspect.signature(obj).bind()
        except TypeError as e:
            raise _LoadError(
                f"'{target}' cannot be called without arguments ({e}): name an App "
                "instance or a function taking none that returns one"
            ) from None
        except ValueError:  # no signature to check (a builtin): just call it
            pass
        obj = obj()
    if not isinstance(obj, App):
        raise _LoadError(
            f"'{target}' is a {type(obj).__name__}, not a tidal.streams.App "
            "(or a function returning one)"
        )
    return obj


def _overrides(ctx: click.Context, **flags: Any) -> dict[str, Any]:
    out = {name: value for name, value in flags.items() if value is not None}
    if "bootstrap_servers" not in out and ctx.parent is not None:
        # `tidal -b HOST run ...`: the root's flag counts when it was given.
        source = ctx.parent.get_parameter_source("bootstrap_server")
        if source in (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT):
            out["bootstrap_servers"] = connection().bootstrap_servers
    return out


def _fail(message: str, code: int) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


@click.command("run")
@click.argument("target", metavar="MODULE:APP")
@click.option(
    "--bootstrap-server",
    "-b",
    "bootstrap_servers",
    envvar="TIDAL_BOOTSTRAP_SERVERS",
    show_envvar=True,
    metavar="HOST:PORT[,...]",
    help="Cluster to run against [the App's; none: an embedded broker].",
)
@click.option(
    "--state-dir",
    envvar="TIDAL_STATE_DIR",
    show_envvar=True,
    metavar="DIR",
    help="Where task state lives.",
)
@click.option(
    "--application-id",
    envvar="TIDAL_APPLICATION_ID",
    metavar="ID",
    show_envvar=True,
    help="Group id and prefix of internal topics.",
)
@click.option(
    "--commit-interval-ms",
    type=click.IntRange(min=1),
    envvar="TIDAL_COMMIT_INTERVAL_MS",
    metavar="MS",
    show_envvar=True,
    help="How often progress is committed.",
)
@click.option(
    "--processing-guarantee",
    type=click.Choice(["at_least_once", "exactly_once_v2"]),
    envvar="TIDAL_PROCESSING_GUARANTEE",
    show_envvar=True,
    help="Delivery guarantee.",
)
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default="info",
    show_default=True,
)
@click.pass_context
def run_app(ctx: click.Context, /, target: str, log_level: str, **flags: Any) -> None:
    """Run the streams App MODULE:APP until Ctrl-C or SIGTERM (then a final commit)."""
    from tidal.streams import StreamsError  # noqa: PLC0415

    # Until App.run() takes SIGTERM over, it ends the command cleanly: nothing
    # has been processed yet, so there is nothing to commit.
    signal.signal(signal.SIGTERM, _terminated_before_start)
    with _logging(log_level):
        try:
            wanted_thresholds()  # a bad TIDAL_GC_THRESHOLD is a bad setting: exit 2
            app = load_app(target)
            app.configure(**_overrides(ctx, **flags))
        except (_LoadError, StreamsError, ValueError) as e:
            _fail(str(e), 2)
        _log.info("starting app '%s' (%s)", app.application_id, target)
        try:
            app.run()
        except (StreamsError, OSError) as e:
            _fail(f"app '{app.application_id}' stopped: {e}", 1)
        except Exception as e:  # noqa: BLE001 - a client error, one line
            _fail(f"app '{app.application_id}' stopped: {type(e).__name__}: {e}", 1)
        _log.info("app '%s' stopped after a final commit", app.application_id)


def _terminated_before_start(_signum: int, _frame: object) -> None:
    raise SystemExit(0)


@contextlib.contextmanager
def _logging(level: str) -> Iterator[None]:
    """Log records to stderr while the command runs."""
    handler = logging.StreamHandler(sys.stderr)
    formatter = logging.Formatter(
        "%(asctime)s.%(msecs)03dZ %(levelname)s %(name)s: %(message)s", "%Y-%m-%dT%H:%M:%S"
    )
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(level.upper())
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)
