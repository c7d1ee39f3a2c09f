"""The spooling directory sources on real folders: CSV and JSON lines, cleanup, offsets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tidal.connectors.api import Schema, SourceRecord, Struct, Type
from tidal.connectors.builtin import (
    SpoolDirCsvSourceConnector,
    SpoolDirCsvSourceTask,
    SpoolDirJsonSourceTask,
)
from tidal.connectors.config import ConfigError

CSV = 'id,name,score,vip\n1,ada,9.5,true\n2,bob,,false\n3,"smith, jo",7,TRUE\n'


class Spool:
    """Folders and a task; ``drain`` polls and acknowledges as the runtime would."""

    def __init__(self, root: Path, source_context: Any, task_cls: type, **props: str) -> None:
        self.root = root
        for name in ("in", "done", "bad"):
            (root / name).mkdir(exist_ok=True)
        context_cls, reader_cls = source_context
        self.context_cls = context_cls
        self.reader = reader_cls()
        self.task_cls = task_cls
        self.config = {
            "input.path": str(root / "in"), "finished.path": str(root / "done"),
            "error.path": str(root / "bad"), "topic": "rows", "empty.poll.wait.ms": "1",
            "input.file.pattern": r".*\.(csv|jsonl)",
            **{k.replace("_", "."): v for k, v in props.items()},
        }  # fmt: skip
        self.task: Any = None

    def start(self) -> Any:
        self.task = self.task_cls()
        self.task.initialize(self.context_cls(self.config, self.reader))
        self.task.start(self.config)
        return self.task

    def poll(self, *, ack: bool = True) -> list[SourceRecord]:
        batch: list[SourceRecord] = self.task.poll()
        if ack:
            for record in batch:
                self.task.commit_record(record, None)
            self.reader.commit(batch)
        return batch

    def drain(self) -> list[SourceRecord]:
        out: list[SourceRecord] = []
        for _ in range(20):
            out += self.poll()
        return out

    def files(self, folder: str) -> list[str]:
        return sorted(p.name for p in (self.root / folder).iterdir())


@pytest.fixture
def spool(tmp_path: Path, source_context: Any) -> Any:
    made: list[Spool] = []

    def make(task_cls: type = SpoolDirCsvSourceTask, **props: str) -> Spool:
        made.append(Spool(tmp_path, source_context, task_cls, **props))
        return made[-1]

    yield make
    for item in made:
        if item.task is not None:
            item.task.stop()


def test_csv_rows_as_string_structs_then_file_moves(spool: Any) -> None:
    s = spool(key_fields="id")
    (s.root / "in" / "a.csv").write_text(CSV)
    (s.root / "in" / "ignored.txt").write_text("x")
    s.start()
    records = s.drain()
    assert [r.value.get("name") for r in records] == ["ada", "bob", "smith, jo"]
    first = records[0]
    assert all(f.schema == Schema.OPTIONAL_STRING_SCHEMA for f in first.value.schema.fields)
    assert first.value.get("score") == "9.5"
    assert records[1].value.get("score") == ""
    assert isinstance(first.key, Struct)
    assert first.key.get("id") == "1"
    assert first.source_partition == {"filename": "a.csv"}
    assert first.source_offset is not None
    assert (first.source_offset["line"], first.source_offset["total"]) == (1, 3)
    assert s.files("done") == ["a.csv"]
    assert s.files("in") == ["ignored.txt"]


def test_csv_types_inferred_with_schema_generation(spool: Any) -> None:
    s = spool(schema_generation_enabled="true")
    (s.root / "in" / "a.csv").write_text(CSV)
    s.start()
    records = s.drain()
    kinds = {f.name: f.schema.type for f in records[0].value.schema.fields}
    assert kinds == {"id": Type.INT64, "name": Type.STRING, "score": Type.FLOAT64,
                     "vip": Type.BOOLEAN}  # fmt: skip
    assert [r.value.get("score") for r in records] == [9.5, None, 7.0]
    assert [r.value.get("vip") for r in records] == [True, False, True]


def test_json_lines_schemaless_and_inferred(spool: Any) -> None:
    lines = '{"id": 1, "tags": ["a"]}\n\n{"id": 2, "name": "bob", "score": 1.5}\n'
    s = spool(SpoolDirJsonSourceTask)
    (s.root / "in" / "a.jsonl").write_text(lines)
    s.start()
    plain = s.drain()
    assert [r.value for r in plain] == [{"id": 1, "tags": ["a"]},
                                        {"id": 2, "name": "bob", "score": 1.5}]  # fmt: skip
    assert plain[0].value_schema is None
    typed = spool(SpoolDirJsonSourceTask, schema_generation_enabled="true", topic="typed")
    (typed.root / "in" / "b.jsonl").write_text(lines)
    typed.start()
    records = typed.drain()
    assert [f.name for f in records[0].value.schema.fields] == ["id", "tags", "name", "score"]
    assert records[0].value.get("tags") == '["a"]'
    assert records[1].value.get("score") == 1.5
    assert records[0].value.get("name") is None


def test_bad_files_go_to_the_error_folder_whole(spool: Any) -> None:
    s = spool(SpoolDirJsonSourceTask)
    (s.root / "in" / "a.jsonl").write_text('{"id": 1}\n{"id": \n')
    (s.root / "in" / "b.jsonl").write_text('{"id": 2}\n[1, 2]\n')
    (s.root / "in" / "c.jsonl").write_text('{"id": 3}\n')
    s.start()
    assert [r.value["id"] for r in s.drain()] == [3]
    assert s.files("bad") == ["a.jsonl", "b.jsonl"]
    assert s.files("done") == ["c.jsonl"]
    ragged = spool()
    (ragged.root / "in" / "r.csv").write_text("a,b\n1,2\n3\n")
    ragged.start()
    assert ragged.drain() == []
    assert "r.csv" in ragged.files("bad")


def test_restart_mid_file_resumes_without_duplicates(spool: Any) -> None:
    s = spool(batch_size="4", schema_generation_enabled="true")
    rows = "".join(f"{i},n{i}\n" for i in range(10))
    (s.root / "in" / "big.csv").write_text("id,name\n" + rows)
    task = s.start()
    first = s.poll()  # acknowledged and committed
    s.poll(ack=False)  # sent, then the worker dies before its offsets are committed
    task.stop()
    assert s.files("in") == ["big.csv"]  # not finished: not all records acknowledged
    again = spool(batch_size="4", schema_generation_enabled="true")
    again.reader = s.reader
    again.start()
    rest = again.drain()
    assert [r.value.get("id") for r in first + rest] == list(range(10))
    assert again.files("done") == ["big.csv"]


def test_cleanup_policies(spool: Any) -> None:
    deleting = spool(cleanup_policy="DELETE")
    (deleting.root / "in" / "a.csv").write_text(CSV)
    deleting.start()
    assert len(deleting.drain()) == 3
    assert deleting.files("in") == []
    assert deleting.files("done") == []
    keeping = spool(cleanup_policy="NONE")
    (keeping.root / "in" / "b.csv").write_text(CSV)
    keeping.start()
    assert len(keeping.drain()) == 3
    assert keeping.files("in") == ["b.csv"]


def test_connector_checks_folders_and_policy(tmp_path: Path) -> None:
    connector = SpoolDirCsvSourceConnector()
    base = {"input.path": str(tmp_path), "error.path": str(tmp_path / "bad"),
            "input.file.pattern": ".*", "topic": "t"}  # fmt: skip
    with pytest.raises(ConfigError, match=r"finished\.path"):
        connector.start(base)
    with pytest.raises(ConfigError, match=r"input\.path"):
        connector.start({**base, "cleanup.policy": "DELETE", "input.path": str(tmp_path / "x")})
    connector.start({**base, "cleanup.policy": "DELETE"})
    assert len(connector.task_configs(4)) == 1
