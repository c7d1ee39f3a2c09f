"""``tidal groups``: list, describe, reset offsets of, and delete consumer groups.

``describe`` shows the group's state, its members with the partitions
assigned to each (decoded from the consumer protocol's assignment bytes by
the admin client) and, per partition, the committed offset, the log end
offset and the lag, as ``kafka-consumer-groups.sh --describe`` does.

``reset-offsets`` works like ``kafka-consumer-groups.sh --reset-offsets``:
without ``--execute`` it only prints the plan; it refuses while the group
has members, whose commits would overwrite the reset.
"""

from __future__ import annotations

from datetime import datetime

import click

from tidal.cli._common import CliError, connection_options, print_table, run
from tidal.cli._topics import admin_client
from tidal.log.client import TopicPartition
from tidal.log.client.admin import AdminClient, GroupDescription, OffsetSpec
from tidal.log.protocol.errors import GroupIdNotFoundError, UnknownTopicOrPartitionError

__all__ = ["groups", "parse_datetime"]

_INACTIVE = ("Empty", "Dead")


@click.group()
def groups() -> None:
    """List, describe, reset offsets of, and delete consumer groups."""


@groups.command("list")
@connection_options
def list_() -> None:
    """List the groups with their state and protocol type."""

    async def main() -> None:
        async with admin_client() as admin:
            listing = await admin.list_groups()
        print_table(
            ["Group", "State", "Type"],
            [[g.group_id, g.state or "-", g.protocol_type or "-"] for g in listing],
        )

    run(main())


async def _describe(admin: AdminClient, group: str) -> GroupDescription:
    try:
        return (await admin.describe_groups([group]))[group]
    except GroupIdNotFoundError:
        raise CliError(f"group '{group}' does not exist") from None


async def _end_offsets(
    admin: AdminClient, partitions: set[TopicPartition]
) -> dict[TopicPartition, int]:
    existing = set(await admin.list_topics(internal=True))
    wanted = [tp for tp in partitions if tp.topic in existing]
    if not wanted:
        return {}
    answers = await admin.list_offsets(dict.fromkeys(wanted, OffsetSpec.LATEST))
    return {tp: r.offset for tp, r in answers.items()}


@groups.command()
@click.argument("group")
@connection_options
def describe(group: str) -> None:
    """Show GROUP's state, members, assignments, committed offsets and lag."""

    async def main() -> None:
        async with admin_client() as admin:
            desc = await _describe(admin, group)
            committed = await admin.list_group_offsets(group)
            owner = {tp: m for m in desc.members for tp in m.assignment}
            partitions = set(committed) | set(owner)
            ends = await _end_offsets(admin, partitions)
        protocol = "/".join(p for p in (desc.protocol_type, desc.protocol) if p) or "-"
        click.echo(
            f"Group: {group}  State: {desc.state}  Protocol: {protocol}  "
            f"Members: {len(desc.members)}"
        )
        if desc.members:
            print_table(
                ["Member id", "Instance id", "Client id", "Host", "Assignment"],
                [
                    [m.member_id, m.group_instance_id, m.client_id, m.host, _tps(m.assignment)]
                    for m in sorted(desc.members, key=lambda m: m.member_id)
                ],
            )
        rows = []
        for tp in sorted(partitions):
            current = committed[tp].offset if tp in committed else None
            end = ends.get(tp)
            lag = end - current if end is not None and current is not None else None
            member = owner.get(tp)
            rows.append(
                [
                    tp.topic,
                    tp.partition,
                    current,
                    end,
                    lag,
                    None if member is None else member.member_id,
                ]
            )
        print_table(
            ["Topic", "Partition", "Current offset", "Log end offset", "Lag", "Consumer id"], rows
        )

    run(main())


def _tps(partitions: list[TopicPartition]) -> str:
    by_topic: dict[str, list[int]] = {}
    for tp in sorted(partitions):
        by_topic.setdefault(tp.topic, []).append(tp.partition)
    return " ".join(f"{t}:{','.join(map(str, ps))}" for t, ps in by_topic.items()) or "-"


def parse_datetime(value: str) -> int:
    """An ISO 8601 time as epoch milliseconds; without a zone it is local time,
    as for ``kafka-consumer-groups.sh --to-datetime``."""
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not an ISO 8601 date-time (e.g. 2024-05-01T12:00:00Z)",
            param_hint="--to-datetime",
        ) from None
    if when.tzinfo is None:
        when = when.astimezone()
    return int(when.timestamp() * 1000)


def _topic_spec(value: str) -> tuple[str, list[int] | None]:
    topic, sep, parts = value.partition(":")
    if not sep:
        return topic, None
    try:
        return topic, sorted({int(p) for p in parts.split(",")})
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not TOPIC or TOPIC:P[,P...]", param_hint="--topic"
        ) from None


async def _partitions(
    admin: AdminClient, specs: list[tuple[str, list[int] | None]]
) -> list[TopicPartition]:
    out: list[TopicPartition] = []
    for topic, wanted in specs:
        try:
            desc = (await admin.describe_topics([topic]))[topic]
        except UnknownTopicOrPartitionError:
            raise CliError(f"topic '{topic}' does not exist") from None
        have = [p.partition for p in desc.partitions]
        for p in wanted or have:
            if p not in have:
                raise CliError(f"partition {p} of topic '{topic}' does not exist")
            out.append(TopicPartition(topic, p))
    return out


async def _plan(
    admin: AdminClient, partitions: list[TopicPartition], strategy: str, target: int | None
) -> dict[TopicPartition, int]:
    start = await admin.list_offsets(dict.fromkeys(partitions, OffsetSpec.EARLIEST))
    end = await admin.list_offsets(dict.fromkeys(partitions, OffsetSpec.LATEST))
    if strategy == "earliest":
        return {tp: start[tp].offset for tp in partitions}
    if strategy == "latest":
        return {tp: end[tp].offset for tp in partitions}
    assert target is not None
    if strategy == "offset":
        return {tp: min(max(target, start[tp].offset), end[tp].offset) for tp in partitions}
    found = await admin.list_offsets(dict.fromkeys(partitions, target))
    # No record at or after the time: the end, as Kafka does.
    return {tp: found[tp].offset if found[tp].offset >= 0 else end[tp].offset for tp in partitions}


@groups.command("reset-offsets")
@click.argument("group")
@click.option(
    "--topic",
    "topics",
    multiple=True,
    required=True,
    metavar="TOPIC[:P,...]",
    help="A topic, or some of its partitions (repeatable).",
)
@click.option("--to-earliest", is_flag=True, help="The log start offset.")
@click.option("--to-latest", is_flag=True, help="The log end offset.")
@click.option("--to-offset", type=click.IntRange(min=0), help="This offset (kept within the log).")
@click.option("--to-datetime", metavar="ISO", help="The first offset at or after this time.")
@click.option("--execute", is_flag=True, help="Apply the plan (default: print it only).")
@connection_options
def reset_offsets(
    group: str,
    topics: tuple[str, ...],
    to_earliest: bool,
    to_latest: bool,
    to_offset: int | None,
    to_datetime: str | None,
    execute: bool,
) -> None:
    """Plan (and with --execute, commit) new offsets for GROUP on the topics."""
    chosen = [
        name
        for name, given in (
            ("earliest", to_earliest),
            ("latest", to_latest),
            ("offset", to_offset is not None),
            ("datetime", to_datetime is not None),
        )
        if given
    ]
    if len(chosen) != 1:
        raise click.UsageError(
            "give exactly one of --to-earliest, --to-latest, --to-offset, --to-datetime"
        )
    strategy = chosen[0]
    target = to_offset if to_datetime is None else parse_datetime(to_datetime)
    specs = [_topic_spec(t) for t in topics]

    async def main() -> None:
        async with admin_client() as admin:
            try:
                desc: GroupDescription | None = (await admin.describe_groups([group]))[group]
            except GroupIdNotFoundError:
                desc = None  # a new group: Kafka lets offsets be set before it starts
            if desc is not None and desc.state not in _INACTIVE:
                raise CliError(
                    f"group '{group}' is active (state {desc.state}, {len(desc.members)} "
                    "members); offsets can only be reset while it has no members"
                )
            partitions = await _partitions(admin, specs)
            plan = await _plan(admin, partitions, strategy, target)
            committed = await admin.list_group_offsets(group, partitions)
            print_table(
                ["Group", "Topic", "Partition", "Current offset", "New offset"],
                [
                    [
                        group,
                        tp.topic,
                        tp.partition,
                        committed[tp].offset if tp in committed else None,
                        plan[tp],
                    ]
                    for tp in partitions
                ],
            )
            if execute:
                await admin.alter_group_offsets(group, plan)

    run(main())
    if execute:
        click.echo(f"Reset the offsets of group {group}.", err=True)
    else:
        click.echo("Dry run: nothing changed; add --execute to apply the plan.", err=True)


@groups.command()
@click.argument("group")
@connection_options
def delete(group: str) -> None:
    """Delete GROUP and its committed offsets (it must have no members)."""

    async def main() -> None:
        async with admin_client() as admin:
            try:
                await admin.delete_groups([group])
            except GroupIdNotFoundError:
                raise CliError(f"group '{group}' does not exist") from None

    run(main())
    click.echo(f"Deleted group {group}.")
