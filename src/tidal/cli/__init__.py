"""The ``tidal`` command line.

Every subcommand lives in its own module and registers on :data:`main`.
"""

from tidal.cli._main import main

__all__ = ["main"]
