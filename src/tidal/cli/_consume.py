"""``tidal consume``: print the records of a topic, one per line.

Like ``kafka-console-consumer.sh``. Without ``--group`` the command assigns
itself every partition (or ``--partition``) and starts at the end, the
beginning (``--from-beginning``) or ``--offset``; with ``--group`` it joins
the group and starts at the committed offsets. In a group it commits what it
has printed (never more: with ``--max-messages`` a fetched but unprinted
record stays for the next reader) every few seconds and on the way out.

It stops after ``--max-messages``, after ``--timeout-idle`` seconds without
a record, or on Ctrl-C / SIGTERM, then prints ``Processed a total of N
messages`` on stderr.
"""

from __future__ import annotations

import asyncio
import base64
import json
import string
import sys
import time
from collections.abc import Callable
from typing import Any

import click

from tidal.cli._common import CliError, connection, connection_options, run, stop_on_signals
from tidal.cli._topics import admin_client
from tidal.log.client.consumer import Consumer, ConsumerRecord, TopicPartition
from tidal.log.protocol.errors import KafkaError, UnknownTopicOrPartitionError

__all__ = ["FIELDS", "consume", "json_bytes", "record_dict", "render_template", "topic_partitions"]

#: The fields of ``--format`` templates.
FIELDS = ("topic", "key", "value", "timestamp", "partition", "offset", "headers")
_COMMIT_INTERVAL = 5.0
_POLL_MS = 200


def _text(data: bytes | None) -> str | None:
    return None if data is None else data.decode("utf-8", errors="backslashreplace")


def _null(data: bytes | None) -> str:
    text = _text(data)
    return "null" if text is None else text


def json_bytes(data: bytes | None) -> str | dict[str, str] | None:
    """Bytes as ``--json`` prints them, reversibly: UTF-8 text as a JSON string,
    anything else as ``{"base64": "..."}``, no bytes as ``null``."""
    if data is None:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(data).decode("ascii")}


def record_dict(record: ConsumerRecord) -> dict[str, Any]:
    """A record as ``--json`` prints it: key, value and header values through
    :func:`json_bytes`, headers as ``[key, value]`` pairs (a key may repeat)."""
    return {
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
        "timestamp": record.timestamp,
        "key": json_bytes(record.key),
        "value": json_bytes(record.value),
        "headers": [[k, json_bytes(v)] for k, v in record.headers],
    }


def render_template(template: str, record: ConsumerRecord) -> str:
    """``template`` filled with the record's fields (null key/value: ``null``)."""
    headers = ",".join(f"{k}={_text(v) or ''}" for k, v in record.headers)
    return template.format(
        topic=record.topic,
        key=_null(record.key),
        value=_null(record.value),
        timestamp=record.timestamp,
        partition=record.partition,
        offset=record.offset,
        headers=headers,
    )


def _check_template(template: str) -> str:
    """Unescape ``\\t``/``\\n`` and check that only known fields are used."""
    template = template.replace("\\t", "\t").replace("\\n", "\n")
    try:
        names = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--format") from None
    for name in names:
        if name not in FIELDS:
            known = ", ".join("{" + f + "}" for f in FIELDS)
            raise click.BadParameter(
                f"unknown field {{{name}}}; known: {known}", param_hint="--format"
            )
    return template


def _formatter(template: str | None, as_json: bool) -> Callable[[ConsumerRecord], str]:
    if as_json:
        return lambda r: json.dumps(record_dict(r), ensure_ascii=False)
    if template is not None:
        return lambda r: render_template(template, r)
    return lambda r: _null(r.value)


def _start_offset(value: str | None) -> int | str | None:
    if value is None or value in ("earliest", "latest"):
        return value
    if value.isdigit():
        return int(value)
    raise click.BadParameter(
        f"{value!r} is not a non-negative offset, 'earliest' or 'latest'", param_hint="--offset"
    )


@click.command()
@click.argument("topic")
@click.option("--from-beginning", is_flag=True, help="Start at the earliest offset.")
@click.option("--group", "-g", help="Read as a member of this consumer group.")
@click.option("--max-messages", type=click.IntRange(min=1), help="Stop after this many records.")
@click.option("--partition", type=click.IntRange(min=0), help="Read only this partition.")
@click.option("--offset", metavar="N|earliest|latest", help="Start here (needs --partition).")
@click.option(
    "--isolation-level",
    type=click.Choice(["read_uncommitted", "read_committed"]),
    default="read_uncommitted",
    show_default=True,
)
@click.option("--format", "template", help="A template such as '{offset}: {key}={value}'.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per record.")
@click.option(
    "--timeout-idle",
    type=click.FloatRange(min=0, min_open=True),
    metavar="SECONDS",
    help="Stop after this long without a record.",
)
@connection_options
def consume(
    topic: str,
    from_beginning: bool,
    group: str | None,
    max_messages: int | None,
    partition: int | None,
    offset: str | None,
    isolation_level: str,
    template: str | None,
    as_json: bool,
    timeout_idle: float | None,
) -> None:
    """Print the records of TOPIC, one value per line."""
    start = _start_offset(offset)
    if template is not None and as_json:
        raise click.UsageError("--format and --json exclude each other")
    if group is not None and (partition is not None or start is not None):
        raise click.UsageError("--partition and --offset cannot be used with --group")
    if start is not None and partition is None:
        raise click.UsageError("--offset needs --partition")
    if start is not None and from_beginning:
        raise click.UsageError("--offset and --from-beginning exclude each other")
    if from_beginning:
        start = "earliest"
    render = _formatter(None if template is None else _check_template(template), as_json)
    settings: dict[str, object] = {
        **connection().client_settings(),
        "group_id": group,
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest" if start == "earliest" else "latest",
        "isolation_level": isolation_level,
    }
    reader = _Reader(render, max_messages, timeout_idle)
    try:
        run(reader.main(topic, settings, partition, start))
    except click.ClickException:
        if reader.count:  # otherwise the error is the one line worth reading
            click.echo(f"Processed a total of {reader.count} messages", err=True)
        raise
    click.echo(f"Processed a total of {reader.count} messages", err=True)


class _Reader:
    """The consume loop and what it has printed."""

    def __init__(
        self,
        render: Callable[[ConsumerRecord], str],
        max_messages: int | None,
        timeout_idle: float | None,
    ) -> None:
        self.render = render
        self.max_messages = max_messages
        self.timeout_idle = timeout_idle
        self.count = 0
        self.printed: dict[TopicPartition, int] = {}  # next offset to commit

    async def main(
        self,
        topic: str,
        settings: dict[str, object],
        partition: int | None,
        start: int | str | None,
    ) -> None:
        partitions = await topic_partitions(topic)
        if partition is not None and partition not in partitions:
            raise CliError(
                f"partition {partition} of topic '{topic}' does not exist "
                f"(it has {len(partitions)})"
            )
        grouped = settings["group_id"] is not None
        async with Consumer(settings) as consumer:
            if grouped:
                consumer.subscribe([topic])
            else:
                chosen = [TopicPartition(topic, p) for p in partitions if partition in (None, p)]
                consumer.assign(chosen)
                if isinstance(start, int):
                    consumer.seek(chosen[0], start)
                elif start == "earliest":
                    consumer.seek_to_beginning(*chosen)
                else:
                    consumer.seek_to_end(*chosen)
            try:
                await self._loop(consumer, grouped)
            finally:
                if grouped:
                    await self._commit(consumer)

    async def _loop(self, consumer: Consumer, grouped: bool) -> None:
        stop = asyncio.Event()
        last_record = last_commit = time.monotonic()
        with stop_on_signals(stop):
            while not stop.is_set() and not self._done():
                batch = await consumer.getmany(timeout_ms=_POLL_MS, max_records=self._left())
                now = time.monotonic()
                if any(batch.values()):
                    last_record = now
                    if not self._print(batch):
                        return
                elif self.timeout_idle is not None and now - last_record >= self.timeout_idle:
                    return
                if grouped and now - last_commit >= _COMMIT_INTERVAL:
                    last_commit = now
                    await self._commit(consumer)

    def _done(self) -> bool:
        return self.max_messages is not None and self.count >= self.max_messages

    def _left(self) -> int | None:
        return None if self.max_messages is None else self.max_messages - self.count

    def _print(self, batch: dict[TopicPartition, list[ConsumerRecord]]) -> bool:
        """Print records up to ``--max-messages``; False when stdout is gone."""
        out = sys.stdout
        try:
            for tp, records in batch.items():
                for record in records:
                    if self._done():
                        break
                    out.write(self.render(record) + "\n")
                    self.count += 1
                    self.printed[tp] = record.offset + 1
            out.flush()
        except BrokenPipeError:
            return False
        return True

    async def _commit(self, consumer: Consumer) -> None:
        if not self.printed:
            return
        try:
            await consumer.commit(dict(self.printed))
        except KafkaError as exc:
            click.echo(f"warning: could not commit offsets: {exc}", err=True)


async def topic_partitions(topic: str) -> list[int]:
    """The partition ids of ``topic``; a missing topic is named in the error."""
    async with admin_client() as admin:
        try:
            described = await admin.describe_topics([topic])
        except UnknownTopicOrPartitionError:
            raise CliError(f"topic '{topic}' does not exist") from None
    return [p.partition for p in described[topic].partitions]
