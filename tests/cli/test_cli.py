import json
import struct
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from tidal import __version__
from tidal.cli import main
from tidal.log.records import (
    ControlRecordType,
    Header,
    SimpleRecord,
    encode_batch,
    encode_control_batch,
    set_base_offset,
)


def _segment(path: Path) -> Path:
    data = encode_batch(
        [
            SimpleRecord(b"v0", key=b"k0", timestamp=1, headers=[Header("h", b"x")]),
            SimpleRecord(None, timestamp=2),
        ],
        producer_id=5,
        producer_epoch=0,
        base_sequence=0,
    )
    marker = bytearray(
        encode_control_batch(
            ControlRecordType.COMMIT,
            producer_id=5,
            producer_epoch=0,
            coordinator_epoch=3,
            timestamp=3,
        )
    )
    set_base_offset(marker, 2)
    segment = path / "00000000000000000000.log"
    segment.write_bytes(data + bytes(marker))
    return segment


def test_version_from_the_console_command() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "tidal", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == f"tidal {__version__}"


def test_dump_log_prints_batches(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["dump-log", str(_segment(tmp_path))])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[1] == "Log starting offset: 0"
    assert lines[2].startswith("baseOffset: 0 lastOffset: 1 count: 2 baseSequence: 0")
    assert "producerId: 5 producerEpoch: 0" in lines[2]
    assert "compresscodec: none crcValid: true" in lines[2]
    assert "isTransactional: true isControl: true" in lines[3]
    assert len(lines) == 4  # no records without --deep-iteration / --print-data-log


def test_dump_log_print_data_log_shows_records_and_markers(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["dump-log", "--print-data-log", str(_segment(tmp_path))])
    assert result.exit_code == 0, result.output
    assert (
        "| offset: 0 CreateTime: 1 keySize: 2 valueSize: 2 sequence: 0 headerKeys: [h] "
        "key: k0 payload: v0 headers: [h=x]" in result.output
    )
    assert "key: null payload: null" in result.output
    assert "endTxnMarker: COMMIT coordinatorEpoch: 3" in result.output


def test_dump_log_reports_a_bad_crc_and_trailing_garbage(tmp_path: Path) -> None:
    segment = _segment(tmp_path)
    data = bytearray(segment.read_bytes())
    data[70] ^= 0xFF  # inside the first batch's records
    segment.write_bytes(bytes(data) + b"garbage")
    result = CliRunner().invoke(main, ["dump-log", str(segment)])
    assert result.exit_code == 1
    assert "crcValid: false" in result.output
    assert "Found 7 invalid bytes" in result.output


def test_dump_log_refuses_other_files(tmp_path: Path) -> None:
    other = tmp_path / "x.txt"
    other.write_text("x")
    result = CliRunner().invoke(main, ["dump-log", str(other)])
    assert result.exit_code == 2
    assert "is not a .log, .index or .timeindex file" in result.output


KAFKA_SEGMENT = Path(__file__).resolve().parents[1] / "log/storage/vectors/kafka-segment"


def test_dump_log_reads_a_segment_written_by_apache_kafka() -> None:
    manifest = json.loads((KAFKA_SEGMENT / "manifest.json").read_text())
    log_file = KAFKA_SEGMENT / "00000000000000000000.log"
    result = CliRunner().invoke(main, ["dump-log", "--deep-iteration", str(log_file)])
    assert result.exit_code == 0, result.output
    batch_lines = [line for line in result.output.splitlines() if line.startswith("baseOffset")]
    assert len(batch_lines) == len(manifest["batches"])
    for line, batch in zip(batch_lines, manifest["batches"], strict=True):
        assert f"position: {batch['position']} " in line
        assert f"size: {batch['size']} " in line
        assert line.endswith("crcValid: true")
    record_lines = [line for line in result.output.splitlines() if line.startswith("| offset")]
    assert len(record_lines) == sum(len(b["records"]) for b in manifest["batches"])


def test_dump_log_prints_kafka_index_entries() -> None:
    index = KAFKA_SEGMENT / "00000000000000000000.index"
    result = CliRunner().invoke(main, ["dump-log", str(index)])
    assert result.exit_code == 0, result.output
    raw = index.read_bytes()
    entries = [line for line in result.output.splitlines() if line.startswith("offset:")]
    assert len(entries) == len(raw) // 8
    first_offset, first_position = struct.unpack_from(">ii", raw)
    assert entries[0] == f"offset: {first_offset} position: {first_position}"
