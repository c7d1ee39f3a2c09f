"""``App.run()`` from synchronous code: blocks, and stops cleanly when
``stop()`` is called from another thread."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from tests.streams.runtime._helpers import BROKER_CONFIG, count_app
from tidal.log.broker import EmbeddedBroker
from tidal.log.client.admin import SyncAdminClient
from tidal.log.client.producer import SyncProducer


def test_run_blocks_until_stop_from_another_thread(tmp_path: Path) -> None:
    with EmbeddedBroker.sync(tmp_path / "broker", BROKER_CONFIG) as broker:
        bootstrap = broker.bootstrap_servers
        with SyncProducer(bootstrap_servers=bootstrap) as producer:
            for word in (b"a", b"b", b"a"):
                producer.send("words", b"x", key=word).result(timeout=10)
        app = count_app(bootstrap, tmp_path / "state")
        stopper = threading.Timer(3.0, app.stop)
        stopper.start()
        started = time.monotonic()
        try:
            app.run(timeout=30)
        finally:
            stopper.cancel()
        assert time.monotonic() - started < 20
        assert app.state == "stopped"
        with SyncAdminClient(bootstrap_servers=bootstrap) as admin:
            offsets = admin.list_group_offsets("wc")
        assert sum(om.offset for om in offsets.values()) == 3
