"""``tidal topics``: create, list, describe, alter and delete topics.

The admin client does the work; this module parses flags and prints. A
``describe`` shows each partition's leader, replicas and offsets, and only
the configs that differ from the defaults, as ``kafka-topics.sh`` does.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import click

from tidal.cli._common import (
    CliError,
    connection,
    connection_options,
    parse_pairs,
    print_table,
    run,
)
from tidal.log.client import TopicPartition
from tidal.log.client.admin import (
    AdminClient,
    ConfigEntry,
    ConfigResource,
    ConfigSource,
    NewTopic,
    OffsetSpec,
    ResourceType,
    TopicDescription,
)
from tidal.log.protocol.errors import UnknownTopicOrPartitionError

__all__ = ["admin_client", "topics"]


@asynccontextmanager
async def admin_client() -> AsyncIterator[AdminClient]:
    """An admin client on the command's connection settings."""
    async with AdminClient(**connection().client_settings()) as admin:
        yield admin


@asynccontextmanager
async def _naming(topic: str) -> AsyncIterator[None]:
    try:
        yield
    except UnknownTopicOrPartitionError:
        raise CliError(f"topic '{topic}' does not exist") from None


@click.group()
def topics() -> None:
    """Create, list, describe, alter and delete topics."""


@topics.command()
@click.argument("name")
@click.option(
    "--partitions", type=click.IntRange(min=1), help="Partition count [broker's num.partitions]."
)
@click.option(
    "--replication-factor",
    type=click.IntRange(min=1),
    help="Replicas per partition [broker's default.replication.factor].",
)
@click.option("--config", "configs", multiple=True, metavar="KEY=VALUE", help="A topic config.")
@connection_options
def create(
    name: str, partitions: int | None, replication_factor: int | None, configs: tuple[str, ...]
) -> None:
    """Create topic NAME."""
    new = NewTopic(
        name,
        num_partitions=-1 if partitions is None else partitions,
        replication_factor=-1 if replication_factor is None else replication_factor,
        configs=parse_pairs(configs, "--config"),
    )

    async def main() -> None:
        async with admin_client() as admin:
            await admin.create_topics([new])

    run(main())
    click.echo(f"Created topic {name}.")


@topics.command("list")
@click.option("--internal", is_flag=True, help="Include internal topics.")
@connection_options
def list_(internal: bool) -> None:
    """Print topic names, one per line."""

    async def main() -> list[str]:
        async with admin_client() as admin:
            return await admin.list_topics(internal=internal)

    for name in run(main()):
        click.echo(name)


def _set_on_topic(entry: ConfigEntry) -> bool:
    """Whether a config was set on the topic itself, as ``kafka-topics.sh
    --describe`` lists them: not a default, nor a broker or cluster-wide
    setting the topic inherits (Kafka 4 sets ``min.insync.replicas`` cluster-wide
    when the cluster is formatted). A broker that names no source is judged by
    its default flag."""
    if entry.source is ConfigSource.UNKNOWN:
        return not entry.is_default
    return entry.source is ConfigSource.DYNAMIC_TOPIC_CONFIG


async def _offsets(
    admin: AdminClient, topic: TopicDescription
) -> tuple[dict[int, int], dict[int, int]]:
    tps = [TopicPartition(topic.name, p.partition) for p in topic.partitions]
    start = await admin.list_offsets(dict.fromkeys(tps, OffsetSpec.EARLIEST))
    end = await admin.list_offsets(dict.fromkeys(tps, OffsetSpec.LATEST))
    return (
        {tp.partition: r.offset for tp, r in start.items()},
        {tp.partition: r.offset for tp, r in end.items()},
    )


@topics.command()
@click.argument("name")
@connection_options
def describe(name: str) -> None:
    """Show partitions (leader, replicas, offsets) and non-default configs of NAME."""
    resource = ConfigResource(ResourceType.TOPIC, name)

    async def main() -> None:
        async with admin_client() as admin, _naming(name):
            topic = (await admin.describe_topics([name]))[name]
            start, end = await _offsets(admin, topic)
            entries = (await admin.describe_configs([resource]))[resource]
        parts = topic.partitions
        replication = max((len(p.replicas) for p in parts), default=0)
        changed = sorted(
            (e.name, "[hidden]" if e.sensitive else (e.value or ""))
            for e in entries.values()
            if _set_on_topic(e)
        )
        click.echo(
            f"Topic: {name}  TopicId: {topic.topic_id or '-'}  "
            f"PartitionCount: {len(parts)}  ReplicationFactor: {replication}"
        )
        click.echo("Configs: " + (",".join(f"{k}={v}" for k, v in changed) or "(defaults)"))
        print_table(
            ["Partition", "Leader", "Replicas", "Isr", "Log start offset", "End offset"],
            [
                [
                    p.partition,
                    p.leader if p.leader >= 0 else "none",
                    ",".join(map(str, p.replicas)),
                    ",".join(map(str, p.isr)),
                    start.get(p.partition),
                    end.get(p.partition),
                ]
                for p in parts
            ],
        )

    run(main())


@topics.command()
@click.argument("name")
@click.option("--config", "configs", multiple=True, metavar="KEY=VALUE", help="Set a config.")
@click.option(
    "--delete-config", "deletes", multiple=True, metavar="KEY", help="Revert a config to default."
)
@connection_options
def alter(name: str, configs: tuple[str, ...], deletes: tuple[str, ...]) -> None:
    """Set or revert configs of topic NAME (others keep their values)."""
    sets = parse_pairs(configs, "--config")
    if not sets and not deletes:
        raise click.UsageError("give at least one --config or --delete-config")
    both = sorted(set(sets) & set(deletes))
    if both:
        raise click.BadParameter(
            f"{both[0]!r} is both set and deleted", param_hint="--config/--delete-config"
        )
    changes: dict[str, tuple[str, str | None]] = {k: ("set", v) for k, v in sets.items()}
    changes.update(dict.fromkeys(deletes, ("delete", None)))
    resource = ConfigResource(ResourceType.TOPIC, name)

    async def main() -> None:
        async with admin_client() as admin, _naming(name):
            await admin.describe_topics([name])
            await admin.incremental_alter_configs({resource: changes})

    run(main())
    click.echo(f"Updated configs of topic {name}.")


@topics.command()
@click.argument("name")
@connection_options
def delete(name: str) -> None:
    """Delete topic NAME and its data."""

    async def main() -> None:
        async with admin_client() as admin, _naming(name):
            await admin.delete_topics([name])

    run(main())
    click.echo(f"Deleted topic {name}.")
