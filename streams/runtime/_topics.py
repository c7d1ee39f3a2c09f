"""Source and internal topics: check the ones users own, create the app's own.

Kafka Streams never creates a user's input topic, and neither does Tidal on a
real cluster: a missing source topic is an error naming it. On the embedded
broker, where the application owns the whole cluster, missing source topics
are created with the broker's ``num.partitions`` so a demo needs no setup.

Internal topics (``<application_id>-<name>-repartition``,
``<application_id>-<store>-changelog``, compacted) come from the compiled
topology with their partition counts; missing ones are created, existing
ones must have the expected partition count.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable

from tidal.log.client.admin import AdminClient, NewTopic
from tidal.log.protocol.errors import TopicAlreadyExistsError
from tidal.streams._contract import CompiledTopologyProtocol, InternalTopic, TopologyError

__all__ = ["prepare_topics", "source_topics"]

log = logging.getLogger("tidal.streams.runtime")


def source_topics(topology: CompiledTopologyProtocol) -> set[str]:
    """Every topic some sub-topology reads (user and repartition topics)."""
    return {t for sub in topology.subtopologies for t in sub.source_topics}


async def prepare_topics(
    admin: AdminClient,
    topology: CompiledTopologyProtocol,
    *,
    create_sources: bool,
    extra: Iterable[str] = (),
) -> dict[str, int]:
    """Check or create every topic the app touches; their partition counts.

    ``create_sources``: create missing user source topics with the broker's
    default partition count (the embedded broker) rather than refuse them.
    ``extra`` names further topics the app writes to (the dead-letter topic),
    created when missing.
    """
    existing = set(await admin.list_topics(internal=False))
    counts: dict[str, int] = {}
    user_sources = source_topics(topology)

    def partitions_of(topic: str) -> int:
        if topic not in counts:
            raise TopologyError(f"topic '{topic}' does not exist")
        return counts[topic]

    # The names of internal topics do not depend on partition counts.
    wanted_user = sorted(user_sources - {t.name for t in topology.internal_topics(lambda _: 1)})
    missing = [t for t in wanted_user if t not in existing]
    if missing and not create_sources:
        names = ", ".join(f"'{t}'" for t in missing)
        raise TopologyError(
            f"source topic(s) {names} do not exist; create them first "
            "(Tidal creates only its own internal topics on a cluster)"
        )
    if missing:
        await _create(admin, [NewTopic(t) for t in missing])
        existing.update(missing)
    if wanted_user:
        described = await admin.describe_topics(wanted_user)
        counts.update({name: len(d.partitions) for name, d in described.items()})
    internal = topology.internal_topics(partitions_of)
    await _ensure_internal(admin, internal, existing, counts)
    for topic in extra:
        if topic not in existing:
            await _create(admin, [NewTopic(topic)])
    return counts


async def _ensure_internal(
    admin: AdminClient,
    internal: list[InternalTopic],
    existing: set[str],
    counts: dict[str, int],
) -> None:
    present = [t for t in internal if t.name in existing]
    if present:
        described = await admin.describe_topics([t.name for t in present])
        for t in present:
            have = len(described[t.name].partitions)
            if have != t.partitions:
                raise TopologyError(
                    f"internal topic '{t.name}' has {have} partitions, the topology needs "
                    f"{t.partitions}; delete it (and the app's state) or fix the input topics"
                )
    absent = [t for t in internal if t.name not in existing]
    if absent:
        log.info("creating internal topics: %s", ", ".join(t.name for t in absent))
        await _create(
            admin,
            [NewTopic(t.name, num_partitions=t.partitions, configs=dict(t.config)) for t in absent],
        )
    for t in internal:
        counts[t.name] = t.partitions


async def _create(admin: AdminClient, topics: list[NewTopic]) -> None:
    for topic in topics:
        with contextlib.suppress(TopicAlreadyExistsError):  # another instance was first
            await admin.create_topics([topic])
