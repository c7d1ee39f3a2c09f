"""Property tests of log compaction against a dict model of the log."""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st

from tidal.log.records import (
    Compression,
    ControlRecordType,
    RecordBatch,
    RecordsError,
    SimpleRecord,
    compress,
    decode_batch,
    decompress,
    encode_batch,
    encode_control_batch,
    iter_batches,
    validate_batch,
)
from tidal.log.storage import compact_segments

NOW = 1_700_000_000_000
RETENTION = 3_600_000
Item = tuple[int, bytes | None, bytes | None]  # (offset, key, value)


def _usable(codec: Compression) -> bool:
    try:
        return decompress(codec, compress(codec, b"probe" * 10)) == b"probe" * 10
    except (NotImplementedError, ImportError, RecordsError):
        return False


#: Codecs that work in this environment (the others are not built yet).
CODECS = [codec for codec in Compression if _usable(codec)]

keys = st.sampled_from([b"a", b"b", b"c", b"d", None])
values = st.one_of(st.none(), st.binary(max_size=3))


@dataclass
class Log:
    """A generated log: segment bytes plus what each record is."""

    segments: list[bytes] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)
    batches: list[tuple[int, bytes]] = field(default_factory=list)  # (segment, bytes)


@st.composite
def plain_logs(draw: st.DrawFn) -> Log:
    """Keyed records (some tombstones, some null keys) in random batches,
    codecs, offset gaps and segments."""
    entries = draw(st.lists(st.tuples(keys, values), min_size=1, max_size=40))
    log = Log(segments=[b""])
    offset = draw(st.integers(0, 5))
    i = 0
    while i < len(entries):
        size = draw(st.integers(1, 6))
        chunk = entries[i : i + size]
        i += size
        records = [
            SimpleRecord(v, key=k, timestamp=NOW + offset + j) for j, (k, v) in enumerate(chunk)
        ]
        raw = encode_batch(records, base_offset=offset, compression=draw(st.sampled_from(CODECS)))
        log.items += [(offset + j, k, v) for j, (k, v) in enumerate(chunk)]
        if log.segments[-1] and draw(st.booleans()):
            log.segments.append(b"")
        log.segments[-1] += raw
        log.batches.append((len(log.segments) - 1, raw))
        offset += len(chunk) + draw(st.sampled_from([0, 0, 0, 1, 3]))  # gaps from earlier cleaning
    if draw(st.booleans()):
        log.segments.append(b"")
    return log


def decoded(segments: list[bytes]) -> list[tuple[int, RecordBatch]]:
    """(segment index, batch) of every output batch, checked valid and in order."""
    out: list[tuple[int, RecordBatch]] = []
    last = -1
    for index, segment in enumerate(segments):
        pos = 0
        for header in iter_batches(segment):
            validate_batch(segment, pos, check_records=True)
            assert header.base_offset > last
            last = header.last_offset
            out.append((index, decode_batch(segment, pos)))
            pos += header.size
        assert pos == len(segment)
    return out


def survivors(segments: list[bytes]) -> list[Item]:
    return [
        (r.offset, r.key, r.value)
        for _, b in decoded(segments)
        if not b.header.is_control
        for r in b.records
    ]


def latest_per_key(items: list[Item]) -> list[Item]:
    """Model of one pass: the last record of each key, null keys all kept."""
    last = {key: offset for offset, key, _ in items}
    return [item for item in items if item[1] is None or last[item[1]] == item[0]]


def clean(segments: list[bytes], now: int, upto: int = 1 << 62) -> list[bytes]:
    return compact_segments(
        segments, clean_upto_offset=upto, now_ms=now, delete_retention_ms=RETENTION
    )


def check_segments_kept_apart(log: Log, out: list[bytes]) -> None:
    assert len(out) == len(log.segments)
    origin = {decode_batch(raw).header.base_offset: seg for seg, raw in log.batches}
    for index, batch in decoded(out):
        assert origin[batch.header.base_offset] == index


@settings(deadline=None, max_examples=200)
@given(plain_logs())
def test_two_passes_leave_the_dict_model(log: Log) -> None:
    first = clean(log.segments, NOW)
    second = clean(first, NOW + RETENTION)  # at every horizon set by the first pass
    model: dict[bytes, Item] = {}
    for offset, key, value in log.items:
        if key is not None:
            model[key] = (offset, key, value)
    expected = sorted(
        [item for item in model.values() if item[2] is not None]
        + [item for item in log.items if item[1] is None]
    )
    assert survivors(second) == expected
    check_segments_kept_apart(log, second)
    # A horizon, once set, stays with its batch (as Kafka keeps it).
    horizons = {b.header.base_offset: b.header.delete_horizon_ms for _, b in decoded(first)}
    for _, batch in decoded(second):
        assert batch.header.delete_horizon_ms == horizons[batch.header.base_offset]
    assert clean(second, NOW + RETENTION) == second
    assert clean(second, NOW + 100 * RETENTION) == second


@settings(deadline=None, max_examples=200)
@given(plain_logs())
def test_one_pass_keeps_latest_per_key_and_stamps_tombstones(log: Log) -> None:
    out = clean(log.segments, NOW)
    assert survivors(out) == latest_per_key(log.items)
    check_segments_kept_apart(log, out)
    kept = {item[0] for item in latest_per_key(log.items)}
    output = b"".join(out)
    for _, batch in decoded(out):
        tombstones = any(r.key is not None and r.value is None for r in batch.records)
        assert batch.header.delete_horizon_ms == (NOW + RETENTION if tombstones else None)
    for _, raw in log.batches:
        original = decode_batch(raw).records
        untouched = all(
            r.offset in kept and (r.key is None or r.value is not None) for r in original
        )
        if untouched:
            assert raw in output
    assert clean(out, NOW) == out
    assert clean(out, NOW + RETENTION - 1) == out


@settings(deadline=None, max_examples=200)
@given(plain_logs(), st.data())
def test_only_batches_below_the_bound_are_cleaned(log: Log, data: st.DataObject) -> None:
    end = log.items[-1][0] + 2
    bound = data.draw(st.integers(0, end))
    out = clean(log.segments, NOW, upto=bound)
    below: list[Item] = []
    tail: list[Item] = []
    for _, raw in log.batches:
        header = decode_batch(raw).header
        items = [i for i in log.items if header.base_offset <= i[0] <= header.last_offset]
        (below if header.last_offset < bound and not tail else tail).extend(items)
    assert survivors(out) == latest_per_key(below) + tail
    check_segments_kept_apart(log, out)
    # The uncleaned region is byte-identical, segment for segment.
    first_tail = next(
        (
            i
            for i, (_, raw) in enumerate(log.batches)
            if decode_batch(raw).header.last_offset >= bound
        ),
        len(log.batches),
    )
    for index, segment in enumerate(log.segments):
        tail_bytes = b"".join(raw for seg, raw in log.batches[first_tail:] if seg == index)
        assert out[index].endswith(tail_bytes)
        if tail_bytes and segment.startswith(tail_bytes):
            assert out[index] == segment
    assert clean(out, NOW, upto=bound) == out


# --- transactions ------------------------------------------------------------------------------

producers = st.sampled_from([None, 1, 2, 3])  # None: no producer id; 3: idempotent only
steps = st.one_of(
    st.tuples(
        st.just("data"), producers, st.lists(st.tuples(keys, values), min_size=1, max_size=4)
    ),
    st.tuples(st.just("end"), st.sampled_from([1, 2]), st.booleans()),
)


@dataclass
class TxnLog:
    segments: list[bytes] = field(default_factory=list)
    kept: list[Item] = field(default_factory=list)  # the model's survivors of one pass
    control_offsets: list[int] = field(default_factory=list)
    last_data_batch: dict[int, tuple[int, int, int]] = field(default_factory=dict)


@st.composite
def transactional_logs(draw: st.DrawFn) -> TxnLog:
    """Plain, idempotent and transactional batches from producers 1 and 2 with
    COMMIT/ABORT markers; transactions left without a marker stay open."""
    log = TxnLog(segments=[b""])
    sequence = {1: 0, 2: 0, 3: 0}
    pending: dict[int, list[Item]] = {1: [], 2: []}
    counted: list[Item] = []  # plain and committed records: these compete per key
    opened: list[Item] = []
    offset = 0
    for kind, producer, payload in draw(st.lists(steps, min_size=1, max_size=25)):
        if kind == "end":
            assert isinstance(producer, int)
            assert isinstance(payload, bool)
            raw = encode_control_batch(
                ControlRecordType.COMMIT if payload else ControlRecordType.ABORT,
                producer_id=producer,
                producer_epoch=0,
                coordinator_epoch=0,
                timestamp=NOW,
                base_offset=offset,
            )
            if payload:
                counted += pending[producer]
            pending[producer] = []
            log.control_offsets.append(offset)
            count = 1
        else:
            assert isinstance(payload, list)
            records = [SimpleRecord(v, key=k, timestamp=NOW) for k, v in payload]
            items = [(offset + j, k, v) for j, (k, v) in enumerate(payload)]
            pid = -1 if producer is None else producer
            raw = encode_batch(
                records,
                base_offset=offset,
                compression=draw(st.sampled_from(CODECS)),
                producer_id=pid,
                producer_epoch=0 if producer else -1,
                base_sequence=sequence[producer] if producer else -1,
                is_transactional=producer in (1, 2),
            )
            if producer in (1, 2):
                pending[producer] += items
            else:
                counted += items
            if producer:
                sequence[producer] += len(records)
                log.last_data_batch[producer] = (offset, len(records) - 1, sequence[producer])
            count = len(records)
        if log.segments[-1] and draw(st.booleans()):
            log.segments.append(b"")
        log.segments[-1] += raw
        offset += count
    opened = pending[1] + pending[2]
    log.kept = sorted(latest_per_key(sorted(counted)) + opened)
    return log


@settings(deadline=None, max_examples=200)
@given(transactional_logs())
def test_transactions_follow_the_model(log: TxnLog) -> None:
    out = clean(log.segments, NOW)
    assert survivors(out) == log.kept
    batches = [b for _, b in decoded(out)]
    assert [b.header.base_offset for b in batches if b.header.is_control] == log.control_offsets
    last_bases = {base for base, _, _ in log.last_data_batch.values()}
    for batch in batches:
        if not batch.records:  # only a producer's last data batch is kept empty
            assert batch.header.base_offset in last_bases
    for producer, (base, delta, next_sequence) in log.last_data_batch.items():
        [last] = [b.header for b in batches if b.header.base_offset == base]
        assert last.producer_id == producer
        assert last.last_offset_delta == delta
        assert (last.last_sequence + 1) & 0x7FFFFFFF == next_sequence
    assert clean(out, NOW) == out
