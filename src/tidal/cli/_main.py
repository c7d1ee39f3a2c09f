"""The root ``tidal`` command group."""

from __future__ import annotations

import click

from tidal._version import __version__
from tidal.cli._broker import broker
from tidal.cli._dump_log import dump_log

__all__ = ["main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(
    __version__, "--version", "-V", prog_name="tidal", message="%(prog)s %(version)s"
)
def main() -> None:
    """Tidal: stream processing for Python on its own Kafka-compatible log."""


main.add_command(dump_log)
main.add_command(broker)
