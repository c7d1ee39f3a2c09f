"""``validate_batch(require_keys=True)``: the rule of a compacted topic that
every record has a key, checked in the record walk, through either walker."""

from __future__ import annotations

import pytest

from tidal.log.records import (
    Compression,
    CorruptRecordError,
    InvalidRecordError,
    SimpleRecord,
    _batch,
    encode_batch,
    validate_batch,
)


@pytest.fixture(params=[True, False], ids=["compiled", "python"])
def walker(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if request.param and not _batch.SPEEDUPS:
        pytest.skip("tidal.log.records._speedups is not in use")
    monkeypatch.setattr(_batch, "_use_speedups", request.param)


@pytest.mark.usefixtures("walker")
@pytest.mark.parametrize("codec", list(Compression))
def test_a_null_key_is_refused_naming_the_first(codec: Compression) -> None:
    raw = encode_batch(
        [SimpleRecord(b"a", key=b"k"), SimpleRecord(b"b"), SimpleRecord(b"c")],
        compression=codec,
    )
    assert validate_batch(raw).records_count == 3
    with pytest.raises(InvalidRecordError, match=r"^record 1 has a null key$"):
        validate_batch(raw, from_producer=True, require_keys=True)
    # The rule reads the records even when the rest of the walk is off.
    with pytest.raises(InvalidRecordError, match="null key"):
        validate_batch(raw, check_records=False, require_keys=True)


@pytest.mark.usefixtures("walker")
def test_keys_empty_or_not_pass() -> None:
    raw = encode_batch([SimpleRecord(b"a", key=b""), SimpleRecord(None, key=b"k")])
    assert validate_batch(raw, from_producer=True, require_keys=True).records_count == 2


@pytest.mark.usefixtures("walker")
def test_other_faults_of_the_batch_come_first() -> None:
    raw = bytearray(encode_batch([SimpleRecord(b"a")]))
    raw[-1] ^= 0xFF
    with pytest.raises(CorruptRecordError, match="CRC mismatch"):
        validate_batch(raw, require_keys=True)
    control = encode_batch([SimpleRecord(b"a")], is_control=True)
    with pytest.raises(InvalidRecordError, match="control batches"):
        validate_batch(control, from_producer=True, require_keys=True)
