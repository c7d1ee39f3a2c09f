"""Fixtures of every connector test: the session's PostgreSQL server (``postgres``)."""

from tests.connectors._postgres import postgres

__all__ = ["postgres"]
