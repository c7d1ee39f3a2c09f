from pathlib import Path

import pytest

from tidal.log.broker import EmbeddedBroker
from tidal.log.broker._broker import Broker
from tidal.log.broker._config import BrokerConfig
from tidal.log.records import SimpleRecord, encode_batch
from tidal.log.storage import CLEAN_SHUTDOWN_FILE, DataDirInUseError


def _config(tmp_path: Path, **extra: str) -> BrokerConfig:
    return BrokerConfig({"log.dirs": str(tmp_path), **extra})


async def test_start_stop_keeps_topics_and_data(tmp_path: Path) -> None:
    broker = Broker(_config(tmp_path))
    await broker.start()
    info = broker.topic_for_use("auto")
    assert info is not None
    assert info.partitions == 1
    log = broker.partition_log("auto", 0)
    assert log is not None
    log.append(encode_batch([SimpleRecord(b"x")]))
    cluster_id = broker.cluster_id
    await broker.stop()
    assert (tmp_path / ".kafka_cleanshutdown").exists()

    again = Broker(_config(tmp_path))
    await again.start()
    assert again.cluster_id == cluster_id
    reopened = again.partition_log("auto", 0)
    assert reopened is not None
    assert reopened.log_end_offset == 1
    assert again.partition_log("auto", 1) is None
    await again.stop()


async def test_auto_create_can_be_disabled(tmp_path: Path) -> None:
    broker = Broker(_config(tmp_path, **{"auto.create.topics.enable": "false"}))
    await broker.start()
    assert broker.topic_for_use("missing") is None
    assert broker.topic_for_use("bad name!") is None
    await broker.stop()


async def test_embedded_broker_over_a_directory_in_use_is_refused(tmp_path: Path) -> None:
    async with EmbeddedBroker(data_dir=tmp_path) as first:
        second = EmbeddedBroker(data_dir=tmp_path)
        with pytest.raises(DataDirInUseError, match="another process is using this directory"):
            await second.start()
        await second.stop()
        assert not (tmp_path / CLEAN_SHUTDOWN_FILE).exists()
        assert first.broker.topic_for_use("still-served") is not None
    # Stopped, the first released the directory; the threaded form sees the same error.
    with EmbeddedBroker.sync(data_dir=tmp_path), pytest.raises(DataDirInUseError):
        EmbeddedBroker.sync(data_dir=tmp_path).start()


async def test_broker_failing_to_start_releases_the_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(data_dir: Path, node_id: int) -> str:
        raise ValueError("meta.properties names another node")

    monkeypatch.setattr("tidal.log.broker._broker.load_cluster_id", fail)
    with pytest.raises(ValueError, match="another node"):
        Broker(_config(tmp_path))
    monkeypatch.undo()
    broker = Broker(_config(tmp_path))
    await broker.start()
    await broker.stop()
