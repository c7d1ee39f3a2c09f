"""The HTTP sink: record values POSTed in JSON array batches, with retries and a DLQ.

::

    connector.class=HttpSink
    topics=orders
    http.api.url=https://api.example.com/ingest
    batch.max.size=100
    headers=Authorization:Bearer abc|X-Source:tidal

Each request carries up to ``batch.max.size`` record values as one JSON array (Structs as
objects; timestamps, dates and times as ISO-8601 strings, decimals as strings, bytes as
base64). A 5xx, 408 or 429 answer, or a connection error, is retried ``max.retries`` times,
waiting ``retry.backoff.ms`` and doubling each time (at most ``retry.backoff.max.ms``); then
the task fails and the batch is consumed again after a restart. Any other 4xx is permanent:
with ``behavior.on.error=fail`` the batch's records go to the dead letter queue when the
connector has one (``errors.deadletterqueue.topic.name``) and the task fails otherwise; ``log``
logs them (and reports them when a DLQ exists); ``ignore`` drops them. Everything ``put`` is
sent by the time ``put`` returns, so committed offsets never run ahead of the endpoint.
"""

from __future__ import annotations

import base64
import datetime
import decimal
import http.client
import json
import logging
import threading
import urllib.parse
from collections.abc import Mapping
from typing import Any

from tidal._version import __version__
from tidal.connectors.api import (
    ConnectError,
    SinkConnector,
    SinkRecord,
    SinkTask,
    Struct,
)
from tidal.connectors.config import (
    ConfigDef,
    ConfigError,
    ConfigType,
    ConfigValue,
    Importance,
    NonEmptyString,
    Password,
    Range,
    ValidString,
)

from ._checks import validate_with

__all__ = ["HttpSinkConnector", "HttpSinkTask", "http_sink_config"]

_log = logging.getLogger(__name__)
_RETRIABLE = {408, 429}


def http_sink_config() -> ConfigDef:
    """The HTTP sink's settings (Confluent's HTTP sink names)."""
    return (
        ConfigDef()
        .define("http.api.url", ConfigType.STRING, ConfigDef.NO_DEFAULT_VALUE, NonEmptyString(),
                Importance.HIGH, "Endpoint the batches are sent to (http or https).")
        .define("request.method", ConfigType.STRING, "POST", ValidString.in_("POST", "PUT",
                "PATCH"), Importance.HIGH, "HTTP method of each request.")
        .define("headers", ConfigType.STRING, "", None, Importance.MEDIUM,
                "Extra request headers, Name:Value separated by header.separator.")
        .define("header.separator", ConfigType.STRING, "|", NonEmptyString(), Importance.LOW,
                "Separator between the entries of headers.")
        .define("batch.max.size", ConfigType.INT, 1, Range.at_least(1), Importance.HIGH,
                "Most records per request.")
        .define("max.retries", ConfigType.INT, 10, Range.at_least(0), Importance.MEDIUM,
                "Retries of a request after a 5xx, 408, 429 or a connection error.")
        .define("retry.backoff.ms", ConfigType.INT, 3000, Range.at_least(0), Importance.MEDIUM,
                "Wait before the first retry, in milliseconds; doubled on each further retry.")
        .define("retry.backoff.max.ms", ConfigType.INT, 60000, Range.at_least(0),
                Importance.LOW, "Longest wait between retries, in milliseconds.")
        .define("behavior.on.error", ConfigType.STRING, "fail", ValidString.in_("fail", "log",
                "ignore"), Importance.MEDIUM, "What a permanent (4xx) failure does: fail "
                "(dead letter queue if configured, else fail the task), log, or ignore.")
        .define("http.connect.timeout.ms", ConfigType.INT, 30000, Range.at_least(1),
                Importance.LOW, "Connect timeout, in milliseconds.")
        .define("http.request.timeout.ms", ConfigType.INT, 30000, Range.at_least(1),
                Importance.LOW, "Timeout of one request, in milliseconds.")
        .define("auth.type", ConfigType.STRING, "none", ValidString.in_("none", "basic"),
                Importance.MEDIUM, "none, or basic with connection.user/connection.password.")
        .define("connection.user", ConfigType.STRING, None, None, Importance.MEDIUM,
                "User of basic authentication.")
        .define("connection.password", ConfigType.PASSWORD, None, None, Importance.MEDIUM,
                "Password of basic authentication.")
    )  # fmt: skip


class HttpSinkConnector(SinkConnector):
    """Sends topics to an HTTP endpoint."""

    def version(self) -> str:
        """Tidal's version."""
        return __version__

    def start(self, props: Mapping[str, str]) -> None:
        """Check and keep the configuration."""
        _checked(http_sink_config().parse(props))
        self.props = dict(props)

    def task_class(self) -> type[SinkTask]:
        """:class:`HttpSinkTask`."""
        return HttpSinkTask

    def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        """``max_tasks`` identical tasks."""
        return [dict(self.props) for _ in range(max_tasks)]

    def stop(self) -> None:
        """Nothing to release."""

    def config(self) -> ConfigDef:
        """The endpoint, batching, retry and error settings."""
        return http_sink_config()

    def validate(self, props: Mapping[str, str]) -> list[ConfigValue]:
        """Each setting, then the URL and the headers."""
        return validate_with(http_sink_config(), props, _checked)


class HttpSinkTask(SinkTask):
    """Sends each ``put`` in batches; offsets are committed only for what was sent."""

    def __init__(self) -> None:
        super().__init__()
        self._conn: http.client.HTTPConnection | None = None
        self._stopping = threading.Event()

    def version(self) -> str:
        """Tidal's version."""
        return __version__

    def start(self, props: Mapping[str, str]) -> None:
        """Read the settings."""
        self._config = config = http_sink_config().parse(props)
        self._url = _target(config)
        self._headers = {"Content-Type": "application/json", **_headers(config)}

    def put(self, records: list[SinkRecord]) -> None:
        """Send ``records`` in batches of at most ``batch.max.size``, before returning.

        Nothing is kept between calls: a record reported to the dead letter queue is always
        one of the batch being put, the batch the runtime can still trace back to Kafka.
        """
        size = self._config["batch.max.size"]
        for start in range(0, len(records), size):
            self._send(records[start : start + size])

    def stop(self) -> None:
        """Interrupt a retry wait and close the connection."""
        self._stopping.set()
        if self._conn is not None:
            self._conn.close()

    def _send(self, batch: list[SinkRecord]) -> None:
        body = json.dumps([_jsonable(r.value) for r in batch], default=_json_default).encode()
        retries, delay = self._config["max.retries"], self._config["retry.backoff.ms"]
        for attempt in range(retries + 1):
            if self._stopping.is_set():
                raise ConnectError("The task stopped before the batch was delivered")
            status, reason = self._request(body)
            if status is not None and 200 <= status < 300:
                return
            if status is not None and 400 <= status < 500 and status not in _RETRIABLE:
                self._permanent(batch, f"HTTP {status} {reason}")
                return
            if attempt < retries:
                _log.warning("request failed (%s); retry %d of %d", reason, attempt + 1, retries)
                self._stopping.wait(min(delay, self._config["retry.backoff.max.ms"]) / 1000)
                delay *= 2
        raise ConnectError(f"Sending to {self._url.geturl()} failed after {retries} retries: "
                           f"{reason}")  # fmt: skip

    def _request(self, body: bytes) -> tuple[int | None, str]:
        try:
            conn = self._connection()
            conn.request(self._config["request.method"], self._path(), body, self._headers)
            response = conn.getresponse()
            text = response.read()[:200].decode(errors="replace")
        except (OSError, http.client.HTTPException) as exc:
            if self._conn is not None:
                self._conn.close()
            self._conn = None
            return None, f"{type(exc).__name__}: {exc}"
        return response.status, f"{response.reason} {text}".strip()

    def _permanent(self, batch: list[SinkRecord], reason: str) -> None:
        behavior = self._config["behavior.on.error"]
        reporter = self.context.errant_record_reporter if self.context is not None else None
        error = ConnectError(f"{self._url.geturl()} refused the batch: {reason}")
        if behavior == "ignore":
            return
        if reporter is not None:
            for record in batch:
                reporter.report(record, error)
        elif behavior == "fail":
            raise error
        if behavior == "log" or reporter is not None:
            _log.warning("%s (%d records)", error, len(batch))

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            cls = (
                http.client.HTTPSConnection if self._url.scheme == "https"
                else http.client.HTTPConnection
            )  # fmt: skip
            connect_s = self._config["http.connect.timeout.ms"] / 1000
            self._conn = cls(self._url.hostname or "", self._url.port, timeout=connect_s)
            self._conn.connect()
            # Reconnects made by http.client itself use the request timeout, as does a read.
            self._conn.timeout = self._config["http.request.timeout.ms"] / 1000
            if self._conn.sock is not None:
                self._conn.sock.settimeout(self._conn.timeout)
        return self._conn

    def _path(self) -> str:
        path = self._url.path or "/"
        return f"{path}?{self._url.query}" if self._url.query else path


def _checked(config: Mapping[str, Any]) -> None:
    _target(config)
    _headers(config)


def _target(config: Mapping[str, Any]) -> urllib.parse.SplitResult:
    url = urllib.parse.urlsplit(str(config["http.api.url"]))
    if url.scheme not in ("http", "https") or not url.hostname:
        raise ConfigError("http.api.url", config["http.api.url"], "expected an http(s) URL")
    return url


def _headers(config: Mapping[str, Any]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for entry in config["headers"].split(config["header.separator"]):
        name, sep, value = entry.partition(":")
        if entry.strip() and not sep:
            raise ConfigError("headers", config["headers"], f"{entry!r} is not Name:Value")
        if name.strip():
            headers[name.strip()] = value.strip()
    if config["auth.type"] == "basic":
        password = config["connection.password"]
        secret = password.value if isinstance(password, Password) else ""
        token = base64.b64encode(f"{config['connection.user'] or ''}:{secret}".encode())
        headers["Authorization"] = "Basic " + token.decode()
    return headers


def _jsonable(value: Any) -> Any:
    if isinstance(value, Struct):
        return {f.name: _jsonable(value.get(f)) for f in value.schema.fields}
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
