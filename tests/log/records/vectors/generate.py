"""Regenerate the golden record batches in this folder from real Kafka clients.

One fixed set of ten records (``RECORDS`` below, written to ``records.json``)
is encoded by each client with each codec, and the raw batch bytes are kept as
``<client>-<codec>.bin``:

* ``kafka-python-*`` and ``aiokafka-*``: the clients' own offline batch
  builders (``DefaultRecordBatchBuilder``), no broker involved.
* ``librdkafka-*`` (confluent-kafka) and ``java-*`` (the Apache Kafka Java
  producer, ``GoldenProducer.java``): produced to a real Apache Kafka broker
  (``tests/peers/kafka-jvm/kafka.sh``) and read back byte for byte out of the
  broker's segment file, so they show what a Kafka broker stores and serves.

With the broker running it also writes a Kafka-made segment for the storage
tests: ``tests/log/storage/vectors/kafka-segment/`` (``.log``, ``.index``,
``.timeindex`` and the rest of the partition folder, plus ``manifest.json``
listing the batches produced), from a topic with ``index.interval.bytes=100``.

Usage (from the repository root, with the test extras installed; the snappy
builders of kafka-python need ``python-snappy``)::

    python tests/log/records/vectors/generate.py              # everything
    python tests/log/records/vectors/generate.py --offline    # no broker, no Java

The broker part needs Java 17 and Maven (the jars come from Maven Central the
first time). Each run overwrites the files it makes. Batches from the offline
builders are deterministic except gzip's header (mtime) in some versions;
batches that went through the broker carry producer ids and the clients'
choices of the day, so rerunning rewrites them with other, equally valid bytes.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiokafka
import aiokafka.record.default_records as aiokafka_records
import confluent_kafka
import kafka
import kafka.record.default_records as kafka_python_records
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[3]
PEER = REPO / "tests" / "peers" / "kafka-jvm"
SEGMENT_OUT = REPO / "tests" / "log" / "storage" / "vectors" / "kafka-segment"

CODECS = ("none", "gzip", "snappy", "lz4", "zstd")
CODEC_IDS = {name: i for i, name in enumerate(CODECS)}

T0 = 1_700_000_000_000  # 2023-11-14T22:13:20Z: in the past, so brokers accept it


@dataclass(frozen=True)
class GoldenRecord:
    timestamp: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes | None], ...] = ()


# Each record pins one corner of the record format. Values are compressible
# on purpose: clients fall back to an uncompressed batch when compression
# does not shrink it (kafka-python, aiokafka and librdkafka all do).
RECORDS = (
    GoldenRecord(T0, b"key-0", b"value-0"),
    GoldenRecord(T0 + 1, None, b"null key", (("trace-id", b"4bf92f3577b34da6"),)),
    GoldenRecord(T0 + 2, b"tombstone", None),
    GoldenRecord(
        T0 + 3,
        b"headers",
        b"repeated and null headers",
        (("a", b"1"), ("null-header", None), ("a", b"2")),
    ),
    GoldenRecord(T0 + 4, b"\x00\x01\xfe\xff", bytes(range(256))),
    GoldenRecord(T0 + 5, b"", b"", (("empty", b""),)),
    GoldenRecord(
        T0 + 6,
        "ключ-🌊".encode(),
        "Tidal 🌊 größe".encode(),
        (("größe", "🌊".encode()),),
    ),
    GoldenRecord(T0 + 7, b"big", b"0123456789abcdef" * 64),
    GoldenRecord(T0 - 5_000, b"earlier", b"timestamp before the batch's first record"),
    GoldenRecord(T0 + 60_000, b"key-0", b"last " * 50, (("h", None),)),
)


def _hex(data: bytes | None) -> str | None:
    return None if data is None else data.hex()


def records_json() -> dict[str, Any]:
    return {
        "description": (
            "The records every *.bin batch in this folder holds, in order, at offsets "
            "0..9 (CreateTime). Bytes are hex strings; null is a null key, value or "
            "header value. See generate.py."
        ),
        "records": [
            {
                "offset": i,
                "timestamp": r.timestamp,
                "key": _hex(r.key),
                "value": _hex(r.value),
                "headers": [[k, _hex(v)] for k, v in r.headers],
            }
            for i, r in enumerate(RECORDS)
        ],
    }


# -- offline builders -----------------------------------------------------------


def build_kafka_python(codec: str) -> bytes:
    builder = kafka_python_records.DefaultRecordBatchBuilder(
        magic=2,
        compression_type=CODEC_IDS[codec],
        is_transactional=False,
        producer_id=-1,
        producer_epoch=-1,
        base_sequence=-1,
        batch_size=1 << 20,
    )
    for i, r in enumerate(RECORDS):
        assert builder.append(i, r.timestamp, r.key, r.value, list(r.headers)) is not None
    return bytes(builder.build())


def build_aiokafka(codec: str) -> bytes:
    builder = aiokafka_records.DefaultRecordBatchBuilder(
        2, CODEC_IDS[codec], 0, -1, -1, -1, 1 << 20
    )
    for i, r in enumerate(RECORDS):
        assert builder.append(i, r.timestamp, r.key, r.value, list(r.headers)) is not None
    return bytes(builder.build())


# -- through a broker -----------------------------------------------------------


def read_segment_batches(log_file: Path) -> list[bytes]:
    """The batches of a segment file, split by their length fields only."""
    data = log_file.read_bytes()
    batches = []
    pos = 0
    while pos + 12 <= len(data):
        (length,) = struct.unpack_from(">i", data, pos + 8)
        if length <= 0:
            break
        batches.append(data[pos : pos + 12 + length])
        pos += 12 + length
    return batches


class Broker:
    """The Apache Kafka peer, started and stopped with tests/peers/kafka-jvm/kafka.sh."""

    def __init__(self, port: int, state_dir: Path) -> None:
        self.env = {
            **os.environ,
            "KAFKA_JVM_PORT": str(port),
            "KAFKA_JVM_DIR": str(state_dir),
        }
        self.bootstrap = f"127.0.0.1:{port}"
        self.log_dirs = state_dir / "data"

    def start(self) -> None:
        subprocess.run([PEER / "kafka.sh", "start"], env=self.env, check=True)

    def stop(self) -> None:
        subprocess.run([PEER / "kafka.sh", "stop"], env=self.env, check=True)

    def create_topics(self, names: list[str], config: dict[str, str] | None = None) -> None:
        admin = AdminClient({"bootstrap.servers": self.bootstrap})
        futures = admin.create_topics(
            [
                NewTopic(n, num_partitions=1, replication_factor=1, config=config or {})
                for n in names
            ]
        )
        for future in futures.values():
            future.result(30)

    def only_batch(self, topic: str) -> bytes:
        batches = read_segment_batches(self.log_dirs / f"{topic}-0" / "00000000000000000000.log")
        if len(batches) != 1:
            raise RuntimeError(f"{topic}: expected one batch, the broker holds {len(batches)}")
        return batches[0]


def produce_librdkafka(broker: Broker, topic: str, codec: str) -> None:
    producer = Producer(
        {
            "bootstrap.servers": broker.bootstrap,
            "compression.type": codec,
            "linger.ms": 1000,
            "batch.num.messages": 1000,
            "acks": "all",
        }
    )
    producer.list_topics(topic, timeout=30)  # metadata first, so no record waits alone
    errors: list[object] = []
    for r in RECORDS:
        producer.produce(
            topic,
            value=r.value,
            key=r.key,
            partition=0,
            timestamp=r.timestamp,
            headers=list(r.headers),
            on_delivery=lambda err, _msg: errors.append(err) if err else None,
        )
    if producer.flush(60) != 0 or errors:
        raise RuntimeError(f"{topic}: delivery failed: {errors}")


def produce_java(broker: Broker, topic: str, codec: str, libs: str) -> None:
    subprocess.run(
        [
            "java",
            "-Dlog4j2.configurationFile=" + str(PEER / "log4j2.properties"),
            "-cp",
            f"{libs}/*",
            str(HERE / "GoldenProducer.java"),
            broker.bootstrap,
            topic,
            codec,
            str(HERE / "records.json"),
        ],
        check=True,
    )


# -- a segment for the storage tests ------------------------------------------------

SEGMENT_TOPIC = "kafka-segment"
SEGMENT_CONFIG = {"index.interval.bytes": "100"}


def segment_batches() -> list[list[GoldenRecord]]:
    """20 batches of 1-4 records; batch 13 goes back in time (time index max)."""
    batches = []
    for b in range(20):
        base = T0 + b * 1_000 - (30_000 if b == 13 else 0)
        batches.append(
            [
                GoldenRecord(
                    base + j,
                    f"key-{b}-{j}".encode(),
                    f"batch {b} record {j} ".encode() * (1 + (b * 7 + j) % 9),
                    (("batch", str(b).encode()),) if j == 0 else (),
                )
                for j in range(1 + b % 4)
            ]
        )
    return batches


def produce_segment(broker: Broker) -> list[dict[str, Any]]:
    """Produce ``segment_batches()``: batches 0-9 uncompressed, 10-19 lz4, each
    from an idempotent librdkafka producer, one flush per batch."""
    manifest = []
    offset = 0
    producers = {
        codec: Producer(
            {
                "bootstrap.servers": broker.bootstrap,
                "compression.type": codec,
                "enable.idempotence": True,
                "linger.ms": 1000,
            }
        )
        for codec in ("none", "lz4")
    }
    for b, batch in enumerate(segment_batches()):
        codec = "none" if b < 10 else "lz4"
        producer = producers[codec]
        for r in batch:
            producer.produce(
                SEGMENT_TOPIC,
                value=r.value,
                key=r.key,
                partition=0,
                timestamp=r.timestamp,
                headers=list(r.headers),
            )
        if producer.flush(60) != 0:
            raise RuntimeError("segment batch not delivered")
        manifest.append(
            {
                "base_offset": offset,
                "last_offset": offset + len(batch) - 1,
                "compression": codec,
                "records": [
                    {
                        "offset": offset + j,
                        "timestamp": r.timestamp,
                        "key": _hex(r.key),
                        "value": _hex(r.value),
                        "headers": [[k, _hex(v)] for k, v in r.headers],
                    }
                    for j, r in enumerate(batch)
                ],
            }
        )
        offset += len(batch)
    return manifest


def save_segment(broker: Broker, manifest: list[dict[str, Any]]) -> None:
    """Copy the partition folder (after a clean shutdown, which trims the
    preallocated index files) and describe it in manifest.json."""
    source = broker.log_dirs / f"{SEGMENT_TOPIC}-0"
    if SEGMENT_OUT.exists():
        shutil.rmtree(SEGMENT_OUT)
    shutil.copytree(source, SEGMENT_OUT)
    batches = read_segment_batches(SEGMENT_OUT / "00000000000000000000.log")
    if len(batches) != len(manifest):
        raise RuntimeError(f"segment: {len(batches)} batches, expected {len(manifest)}")
    position = 0
    for entry, raw in zip(manifest, batches, strict=True):
        (base_offset,) = struct.unpack_from(">q", raw, 0)
        if base_offset != entry["base_offset"]:
            raise RuntimeError(f"segment: batch at {base_offset}, expected {entry['base_offset']}")
        entry["position"] = position
        entry["size"] = len(raw)
        position += len(raw)
    check_indexes(manifest)
    doc = {
        "description": (
            "A partition folder written by Apache Kafka, copied after a clean shutdown. "
            "Batches 0-9 are uncompressed, 10-19 lz4, each from an idempotent librdkafka "
            "producer; batch 13 has timestamps 30 s before its neighbours. position and "
            "size locate each batch in the .log file. See "
            "tests/log/records/vectors/generate.py."
        ),
        "kafka_version": kafka_version(),
        "librdkafka_version": librdkafka_version(),
        "topic": SEGMENT_TOPIC,
        "topic_config": SEGMENT_CONFIG,
        "notes": [
            "The .index and .timeindex were trimmed to their entries by the clean shutdown; "
            "while a segment is active Kafka keeps them preallocated (segment.index.bytes).",
            ".index entries are (int32 offset - segment base offset, int32 position): the "
            "offset is the LAST offset of the batch starting at position. An entry is added "
            "before appending a batch when more than index.interval.bytes were appended "
            "since the previous entry, so the first batches of the segment have none.",
            ".timeindex entries are (int64 max timestamp so far, int32 offset - base), "
            "added with the .index entries but only when the timestamp grows: batch 13, "
            "whose timestamps go back in time, has no time index entry.",
            "The .snapshot file is the producer state snapshot taken at shutdown, named "
            "after the log end offset.",
        ],
        "files": sorted(p.name for p in SEGMENT_OUT.iterdir()),
        "batches": manifest,
    }
    (SEGMENT_OUT / "manifest.json").write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")


def check_indexes(manifest: list[dict[str, Any]]) -> None:
    """Check what manifest.json's notes say about the index files."""
    index = (SEGMENT_OUT / "00000000000000000000.index").read_bytes()
    timeindex = (SEGMENT_OUT / "00000000000000000000.timeindex").read_bytes()
    by_position = {b["position"]: b for b in manifest}
    entries = [struct.unpack_from(">ii", index, i) for i in range(0, len(index), 8)]
    if not entries or any(by_position[pos]["last_offset"] != rel for rel, pos in entries):
        raise RuntimeError(f"unexpected .index entries {entries}")
    times = [struct.unpack_from(">qi", timeindex, i) for i in range(0, len(timeindex), 12)]
    indexed = {rel for rel, _ in entries}
    if any(rel not in indexed for _, rel in times) or len(times) != len(entries) - 1:
        raise RuntimeError(f"unexpected .timeindex entries {times}")
    if any(a[0] >= b[0] for a, b in itertools.pairwise(times)):
        raise RuntimeError(f"time index timestamps do not grow: {times}")


# -- main ---------------------------------------------------------------------------


def kafka_version() -> str:
    pom = (PEER / "pom.xml").read_text()
    return pom.split("<kafka.version>")[1].split("</kafka.version>")[0]


def librdkafka_version() -> str:
    return str(confluent_kafka.libversion()[0])


def write_vector(name: str, data: bytes, sources: dict[str, Any], about: dict[str, Any]) -> None:
    (HERE / name).write_bytes(data)
    sources[name] = about
    print(f"  {name}: {len(data)} bytes, attributes codec {data[22] & 7}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--offline", action="store_true", help="only the offline builders")
    parser.add_argument("--port", type=int, default=19192, help="broker port (and port+1)")
    args = parser.parse_args()

    doc = records_json()
    (HERE / "records.json").write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    sources_file = HERE / "sources.json"
    sources: dict[str, Any] = json.loads(sources_file.read_text()) if sources_file.exists() else {}

    print("offline builders")
    for codec in CODECS:
        about = {"codec": codec, "made_by": "DefaultRecordBatchBuilder, offline"}
        write_vector(
            f"kafka-python-{codec}.bin",
            build_kafka_python(codec),
            sources,
            {"client": f"kafka-python {kafka.__version__}", **about},
        )
        write_vector(
            f"aiokafka-{codec}.bin",
            build_aiokafka(codec),
            sources,
            {"client": f"aiokafka {aiokafka.__version__}", **about},
        )

    if not args.offline:
        libs = subprocess.run(
            [PEER / "fetch.sh"], check=True, capture_output=True, text=True
        ).stdout.strip()
        with tempfile.TemporaryDirectory(prefix="tidal-golden-") as tmp:
            broker = Broker(args.port, Path(tmp) / "kafka")
            broker.start()
            try:
                print(f"broker at {broker.bootstrap}")
                topics = [f"{c}-{codec}" for c in ("librdkafka", "java") for codec in CODECS]
                broker.create_topics(topics)
                broker.create_topics([SEGMENT_TOPIC], SEGMENT_CONFIG)
                for codec in CODECS:
                    produce_librdkafka(broker, f"librdkafka-{codec}", codec)
                    produce_java(broker, f"java-{codec}", codec, libs)
                time.sleep(1)
                for codec in CODECS:
                    made_by = f"via Apache Kafka {kafka_version()} segment"
                    about = {"codec": codec, "made_by": made_by}
                    write_vector(
                        f"librdkafka-{codec}.bin",
                        broker.only_batch(f"librdkafka-{codec}"),
                        sources,
                        {"client": f"librdkafka {librdkafka_version()}", **about},
                    )
                    write_vector(
                        f"java-{codec}.bin",
                        broker.only_batch(f"java-{codec}"),
                        sources,
                        {"client": f"kafka-clients {kafka_version()}", **about},
                    )
                manifest = produce_segment(broker)
            finally:
                broker.stop()
            save_segment(broker, manifest)
            print(f"segment: {SEGMENT_OUT.relative_to(REPO)}")

    sources_file.write_text(json.dumps(dict(sorted(sources.items())), indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
