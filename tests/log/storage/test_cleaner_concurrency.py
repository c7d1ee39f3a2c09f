"""The cleaner runs beside appends and reads: the log's lock is held only for the swap."""

import threading
from collections.abc import Sequence
from pathlib import Path

from tidal.log.records import SimpleRecord, decode_batch, encode_batch
from tidal.log.storage import LogConfig, LogManager, compact_segments

TIMEOUT = 10


def test_appends_and_reads_continue_while_the_cleaner_works(tmp_path: Path) -> None:
    started = threading.Event()
    release = threading.Event()

    def slow_compactor(segments: Sequence[bytes | memoryview], **kwargs: int) -> list[bytes]:
        started.set()
        assert release.wait(TIMEOUT)
        return compact_segments(segments, **kwargs)

    config = LogConfig.from_properties(
        {"cleanup.policy": "compact", "segment.bytes": "300", "min.cleanable.dirty.ratio": "0.01"}
    )
    with LogManager(tmp_path, compactor=slow_compactor, start_scheduler=False) as manager:
        log = manager.get_or_create_log("compacted", 0, config)
        for i in range(30):
            log.append(encode_batch([SimpleRecord(b"v%d" % i, key=b"k%d" % (i % 3))]))
        log.high_watermark = log.log_end_offset
        cleaner = threading.Thread(target=manager.run_cleaner)
        cleaner.start()
        assert started.wait(TIMEOUT)

        appended: list[int] = []

        def append_and_read() -> None:
            info = log.append(encode_batch([SimpleRecord(b"during", key=b"k9")]))
            assert decode_batch(log.read_bytes(info.first_offset, 1 << 20)).records
            appended.append(info.first_offset)

        writer = threading.Thread(target=append_and_read)
        writer.start()
        writer.join(TIMEOUT)
        # The append finished while the compactor was still blocked.
        assert appended == [30]
        assert not release.is_set()
        release.set()
        cleaner.join(TIMEOUT)
        assert not cleaner.is_alive()

        survivors = []
        offset = log.log_start_offset
        while offset < log.log_end_offset:
            data = log.read_bytes(offset, 1 << 20)
            batch = decode_batch(data)
            survivors += [(r.offset, r.key, r.value) for r in batch.records]
            offset = batch.header.next_offset
        assert len(survivors) < 31, "the cleaner removed nothing"
        latest = {key: value for _, key, value in survivors}
        assert latest == {b"k0": b"v27", b"k1": b"v28", b"k2": b"v29", b"k9": b"during"}
        assert (30, b"k9", b"during") in survivors
