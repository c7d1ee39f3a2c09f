"""``App.close()`` while a ``wait()`` is still processing: the wait returns
normally, the app is stopped (not failed) and nothing is left unretrieved."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from tests.streams.runtime._helpers import BROKER_CONFIG, count_app, create_topic, produce
from tests.streams.runtime._topology import INPUT
from tidal.log.broker import EmbeddedBroker


async def test_close_stops_a_running_wait_which_returns_normally(tmp_path: Path) -> None:
    loop = asyncio.get_running_loop()
    unhandled: list[dict[str, Any]] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: unhandled.append(context))
    try:
        async with EmbeddedBroker(data_dir=tmp_path / "broker", config=BROKER_CONFIG) as broker:
            await create_topic(broker.bootstrap_servers, INPUT, 3)
            await produce(broker.bootstrap_servers, [(b"apple", b"x"), (b"pear", b"x")])
            app = count_app(broker.bootstrap_servers, tmp_path / "state")
            await app.start()
            waiting = asyncio.create_task(app.wait())
            await asyncio.sleep(0.5)  # the wait is processing
            assert not waiting.done()
            await asyncio.wait_for(app.close(), 30)
            assert waiting.done()
            assert waiting.exception() is None
            assert app.state == "stopped"
            del waiting
    finally:
        loop.set_exception_handler(previous)
    assert unhandled == []
