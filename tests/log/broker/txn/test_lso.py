"""Last stable offset and aborted-transaction index against a plain model.

Random interleavings of transactional writes, commits and aborts by a few
producers on one partition: after each step the LSO must be the first offset
of the oldest open transaction (else the high watermark), and the
``.txnindex`` must hold exactly the aborted transactions that wrote data.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from tidal.log.broker.producer import ProducerStateManager
from tidal.log.broker.txn import append_marker, last_stable_offset
from tidal.log.records import SimpleRecord, encode_batch, iter_batches
from tidal.log.storage import AbortedTxn, PartitionLog

OPS = st.lists(
    st.tuples(st.integers(1, 3), st.sampled_from(["data", "commit", "abort"])), max_size=40
)


@settings(max_examples=60)
@given(OPS)
def test_lso_and_index_follow_the_model(ops: list[tuple[int, str]]) -> None:
    with tempfile.TemporaryDirectory() as directory:
        log = PartitionLog(Path(directory) / "t-0")
        state = ProducerStateManager(log.directory)
        now = time.time_ns() // 1_000_000
        sequences = dict.fromkeys(range(1, 4), 0)
        open_first: dict[int, int] = {}
        aborted: list[tuple[int, int, int, int]] = []
        for pid, op in ops:
            if op == "data":
                batch = encode_batch(
                    [SimpleRecord(b"v", timestamp=now)] * 2,
                    producer_id=pid, producer_epoch=0, base_sequence=sequences[pid],
                    is_transactional=True,
                )  # fmt: skip
                sequences[pid] += 2
                assert state.check_batches(iter_batches(batch)).should_append
                info = log.append(batch)
                state.on_log_append(iter_batches(batch), info)
                log.high_watermark = log.log_end_offset
                open_first.setdefault(pid, info.first_offset)
            else:
                marker = append_marker(
                    log, state, producer_id=pid, producer_epoch=0, commit=op == "commit",
                    timestamp=now,
                )  # fmt: skip
                first = open_first.pop(pid, None)
                if op == "abort" and first is not None:
                    stable = min(open_first.values(), default=marker + 1)
                    aborted.append((pid, first, marker, stable))
            expected = min(open_first.values(), default=log.high_watermark)
            assert last_stable_offset(log, state) == expected
        assert log.txn_index.entries() == [AbortedTxn(*entry) for entry in aborted]
        log.close()
