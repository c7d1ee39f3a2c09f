"""Apache Kafka (KRaft, JVM) through the interop tests' own script,
``tests/peers/kafka-jvm/kafka.sh``, with jars resolved from Maven Central."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

from peers._base import BrokerProcess, PeerStartError, free_port

__all__ = ["KafkaBroker"]

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "tests" / "peers" / "kafka-jvm"
HEAP = "1g"


class KafkaBroker(BrokerProcess):
    """A single-node KRaft broker: ``kafka.sh start`` (it formats a fresh log
    directory and returns once the broker reports "Kafka Server started"), every
    broker setting at the script's defaults (no fsync: the page cache)."""

    name = "kafka"
    label = "Apache Kafka"
    fetch_timeout = 1800.0
    timeout = 300.0

    def __init__(self) -> None:
        super().__init__()
        self._env: dict[str, str] = {}
        self._libs: str | None = None

    def unavailable(self) -> str | None:
        """Java and the jars (fetched into the cache now if missing)."""
        if shutil.which("java") is None:
            return "Apache Kafka needs Java 17 (apt-get install openjdk-17-jre-headless)"
        try:
            fetched = subprocess.run(
                [str(SCRIPTS / "fetch.sh")],
                capture_output=True,
                text=True,
                check=False,
                timeout=self.fetch_timeout,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            return f"cannot fetch the Apache Kafka jars with {SCRIPTS / 'fetch.sh'}: {exc}"
        if fetched.returncode != 0 or not Path(fetched.stdout.strip()).is_dir():
            tail = "\n".join(fetched.stderr.splitlines()[-5:])
            return (
                f"cannot fetch the Apache Kafka jars with {SCRIPTS / 'fetch.sh'} "
                f"(needs Maven and Maven Central): {tail}"
            )
        self._libs = fetched.stdout.strip()
        return None

    def describe(self) -> dict[str, Any]:
        """The Kafka version from the peer's pom.xml, Java's version, the script."""
        pom = (SCRIPTS / "pom.xml").read_text()
        match = re.search(r"<kafka.version>(.*?)</kafka.version>", pom)
        java = subprocess.run(
            ["java", "-version"], capture_output=True, text=True, check=False, timeout=60
        ).stderr.splitlines()
        return {
            "version": match.group(1) if match else None,
            "java": java[0] if java else None,
            "jars": self._libs,
            "command": "tests/peers/kafka-jvm/kafka.sh start  (KRaft, broker+controller, "
            f"one node, -Xmx{HEAP} -XX:+UseG1GC)",
            "storage": "segment files on disk under WORK/kafka/data (page cache, no fsync)",
        }

    def _script(self, action: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(SCRIPTS / "kafka.sh"), action],
            env=self._env,
            capture_output=True,
            text=True,
            check=False,
            timeout=self.timeout,
        )

    def start(self, work: Path) -> None:
        """Start on a free port pair (client, controller)."""
        port = free_port(2)
        state = work / "kafka"
        self._env = {
            **os.environ,
            "KAFKA_JVM_PORT": str(port),
            "KAFKA_JVM_DIR": str(state),
            "KAFKA_JVM_HEAP": HEAP,
        }
        if self._libs:
            self._env["KAFKA_JVM_LIBS"] = self._libs
        self.log_path = state / "broker.log"
        started = self._script("start")
        if started.returncode != 0:
            self._script("stop")
            raise PeerStartError(f"Apache Kafka did not start: {started.stderr.strip()[-2000:]}")
        self.pid = int((state / "broker.pid").read_text())
        self.bootstrap_servers = f"127.0.0.1:{port}"

    def stop(self) -> None:
        """``kafka.sh stop``: SIGTERM, and SIGKILL after 60 s."""
        if self._env:
            stopped = self._script("stop")
            self._env = {}
            if stopped.returncode != 0:
                raise PeerStartError(f"kafka.sh stop failed: {stopped.stderr.strip()}")
