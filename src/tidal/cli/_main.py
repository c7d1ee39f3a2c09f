"""The root ``tidal`` command group."""

from __future__ import annotations

import click

from tidal._version import __version__
from tidal.cli._broker import broker
from tidal.cli._common import root_connection_options
from tidal.cli._connect import connect
from tidal.cli._consume import consume
from tidal.cli._demo import demo
from tidal.cli._dump_log import dump_log
from tidal.cli._groups import groups
from tidal.cli._perf import perf
from tidal.cli._produce import produce
from tidal.cli._run import run_app
from tidal.cli._topics import topics
from tidal.cli._transactions import transactions

__all__ = ["main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(
    __version__, "--version", "-V", prog_name="tidal", message="%(prog)s %(version)s"
)
@root_connection_options
def main() -> None:
    """Tidal: stream processing for Python on its own Kafka-compatible log."""


main.add_command(dump_log)
main.add_command(broker)
main.add_command(topics)
main.add_command(produce)
main.add_command(consume)
main.add_command(groups)
main.add_command(transactions)
main.add_command(perf)
main.add_command(run_app)
main.add_command(demo)
main.add_command(connect)
