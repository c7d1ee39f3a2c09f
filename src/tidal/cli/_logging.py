"""Log records on stderr, one format for every long-running command.

``tidal broker start`` and ``tidal connect`` write each record as
``2026-01-31T12:00:00.123Z LEVEL logger: message`` (UTC, milliseconds), the
format ``tidal run`` uses too; ``--log-format json`` gives one JSON object a line.
"""

from __future__ import annotations

import json
import logging
import sys
import time

__all__ = ["JsonFormatter", "setup_logging", "text_formatter"]


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message (and exception)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def text_formatter() -> logging.Formatter:
    """``2026-01-31T12:00:00.123Z INFO tidal.log.broker: message``, in UTC."""
    formatter = logging.Formatter(
        "%(asctime)s.%(msecs)03dZ %(levelname)s %(name)s: %(message)s", "%Y-%m-%dT%H:%M:%S"
    )
    formatter.converter = time.gmtime
    return formatter


def setup_logging(level: str, fmt: str = "text") -> None:
    """Send every record at ``level`` or above to stderr, as ``text`` or ``json``."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else text_formatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
