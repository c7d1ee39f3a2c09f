from pathlib import Path

from tidal.log.broker._broker import Broker
from tidal.log.broker._config import BrokerConfig
from tidal.log.records import SimpleRecord, encode_batch


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
