"""Word count, the "hello world" of stream processing, on Tidal Streams.

Run it with ``python examples/streams_word_count.py [STATE_DIR]``. The app
names no bootstrap servers, so it starts an embedded broker whose log lives in
``STATE_DIR/word-count/broker`` (a temporary directory unless one is given).

The topology splits each line of topic ``lines`` into words, re-keys every
word by itself (through the repartition topic
``word-count-counts-repartition``), counts the words in the RocksDB store
``counts`` (backed by the compacted changelog ``word-count-counts-changelog``)
and writes each new count to ``word-counts``. At the end the counts are read
two ways: from the store, with a local query, and from the output topic.
"""

from __future__ import annotations

import asyncio
import re
import sys
import tempfile
from pathlib import Path

from tidal.log.client.admin import AdminClient
from tidal.log.client.consumer import Consumer, TopicPartition
from tidal.log.client.producer import Producer
from tidal.streams import App

LINES = [
    "The tide rises, the tide falls,",
    "the twilight darkens, the curlew calls;",
    "Along the sea-sands damp and brown",
    "the traveller hastens toward the town,",
    "and the tide rises, the tide falls.",
]


def words(line: str) -> list[str]:
    """Lower-case words, punctuation dropped ("sea-sands" stays one word)."""
    return re.findall(r"[a-z]+(?:-[a-z]+)*", line.lower())


def build_app(state_dir: Path) -> App:
    """The word count topology on an App with an embedded broker."""
    app = App("word-count", state_dir=state_dir, commit_interval_ms=500)
    (
        app.stream("lines", value_serde="str")
        .flat_map_values(words)
        .group_by(lambda _key, word: word, key_serde="str")
        .count("counts")
        .to_stream()
        .to("word-counts", key_serde="str", value_serde="long")
    )
    return app


async def read_topic(bootstrap: str, topic: str) -> list[tuple[str, int]]:
    """Every (word, count) record of ``topic``, from the beginning to its end."""
    async with AdminClient(bootstrap_servers=bootstrap) as admin:
        described = await admin.describe_topics([topic])
    partitions = [TopicPartition(topic, p.partition) for p in described[topic].partitions]
    async with Consumer(bootstrap_servers=bootstrap, enable_auto_commit=False) as consumer:
        consumer.assign(partitions)
        consumer.seek_to_beginning()
        ends = await consumer.end_offsets(partitions)
        records: list[tuple[str, int]] = []
        while any([await consumer.position(tp) < end for tp, end in ends.items()]):
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                records += [(r.key.decode(), int.from_bytes(r.value, "big")) for r in batch]
        return records


async def main(state_dir: Path) -> None:
    app = build_app(state_dir)
    print(app.describe())
    await app.start()
    try:
        print(f"embedded broker on {app.bootstrap_servers}")
        async with Producer(bootstrap_servers=app.bootstrap_servers) as producer:
            for line in LINES:
                await producer.send("lines", line.encode())
        print(f"wrote {len(LINES)} lines to 'lines'")
        # Process until every input is read to its end and nothing moved for a second.
        await app.wait(stop_when_idle_ms=1000)

        counts = app.store("counts")
        print("\ncounts in store 'counts' (a local query):")
        for word, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
            print(f"  {word:<12} {count}")

        updates = await read_topic(app.bootstrap_servers, "word-counts")
        latest = dict(updates)
        print(
            f"\n'word-counts' holds {len(updates)} updates; the latest per word agree: "
            f"{latest == dict(counts.items())}"
        )
    finally:
        await app.close()


if __name__ == "__main__":
    if len(sys.argv) > 1:
        asyncio.run(main(Path(sys.argv[1])))
    else:
        with tempfile.TemporaryDirectory(prefix="tidal-word-count-") as tmp:
            asyncio.run(main(Path(tmp)))
