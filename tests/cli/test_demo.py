"""``tidal demo`` runs its pipeline end to end and checks the result it prints."""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from tidal.cli import _demo, main
from tidal.cli._demo import Order, Totals, expected_totals, generate_orders

RECORDS = 20_000


def _totals_by_hand(orders: list[Order]) -> Totals:
    users: dict[str, tuple[int, int]] = {}
    categories: dict[str, tuple[int, int]] = {}
    for order in orders:
        n, c = users.get(order.user, (0, 0))
        users[order.user] = (n + 1, c + order.amount_cents)
        n, c = categories.get(order.category, (0, 0))
        categories[order.category] = (n + 1, c + order.amount_cents)
    return Totals(users, categories)


def test_the_generator_is_deterministic_and_skewed() -> None:
    first = list(generate_orders(5_000, 500, seed=3))
    assert first == list(generate_orders(5_000, 500, seed=3))
    assert first != list(generate_orders(5_000, 500, seed=4))
    assert [o.order_id for o in first] == list(range(5_000))
    assert all(100 <= o.amount_cents <= 20_000 for o in first)
    assert {o.category for o in first} == set(_demo.CATEGORIES)
    totals = expected_totals(iter(first))
    assert totals == _totals_by_hand(first)
    busiest = max(n for n, _ in totals.users.values())
    assert busiest > 10 * (5_000 / 500)  # a Zipf-like head, not a uniform spread


def test_demo_processes_reads_back_and_verifies(tmp_path: Path) -> None:
    state = tmp_path / "state"
    env = {**os.environ, "COLUMNS": "120", "TMPDIR": str(tmp_path)}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tidal",
            "demo",
            "--records",
            str(RECORDS),
            "--state-dir",
            str(state),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert "verified: the stores and the output topics hold exactly the totals" in out
    assert re.search(r"records in\s+20,000 orders", out)
    assert re.search(r"records out\s+40,000 \(user-totals 20,000, category-totals 20,000\)", out)
    assert re.search(r"throughput\s+[\d,]+ records/s", out)

    want = _totals_by_hand(list(generate_orders(RECORDS, 2_000, seed=7)))
    top_user, (orders, cents) = max(want.users.items(), key=lambda item: item[1][1])
    row = re.search(rf"{top_user}\s+│\s+([\d,]+)\s+│\s+([\d,.]+)", out)
    assert row is not None, out
    assert row.group(1) == f"{orders:,}"
    assert row.group(2) == f"{cents / 100:,.2f}"
    for category, (n, c) in want.categories.items():
        assert re.search(rf"{category}\s+│\s+{n:,}\s+│\s+{c / 100:,.2f}", out), category
    assert re.search(
        rf"final state\s+{len(want.users):,} users in store user-totals, 8 categories", out
    )

    # --state-dir keeps what the run left: the broker's log and the RocksDB stores.
    app_dir = state / "tidal-demo"
    topics = {p.name for p in (app_dir / "broker").iterdir()}
    assert {"orders-0", "orders-3", "user-totals-0", "category-totals-0"} <= topics
    assert "tidal-demo-user-totals-changelog-0" in topics
    assert "tidal-demo-by-category-repartition-0" in topics
    assert list(app_dir.rglob("CURRENT")), "no RocksDB store on disk"
    assert not list(tmp_path.glob("tidal-demo-*")), "a temporary directory was made"


def test_demo_exits_nonzero_when_the_result_disagrees(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = _demo.expected_totals

    def off_by_one(orders: object) -> Totals:
        totals = real(orders)  # type: ignore[arg-type]
        user = min(totals.users)
        n, c = totals.users[user]
        totals.users[user] = (n, c + 1)
        return totals

    monkeypatch.setattr(_demo, "expected_totals", off_by_one)
    monkeypatch.setattr(_demo.tempfile, "tempdir", str(tmp_path))
    result = CliRunner().invoke(main, ["demo", "--records", "2000", "--users", "50"])
    assert result.exit_code == 1, result.output
    assert "NOT verified" in result.output
    assert "store user-totals user-0" in result.output
    assert "topic user-totals user-0" in result.output
    # Without --state-dir the run's temporary directory is gone afterwards.
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_while_processing_exits_130_without_a_traceback(tmp_path: Path) -> None:
    env = {**os.environ, "COLUMNS": "120", "TMPDIR": str(tmp_path)}
    out_path, err_path = tmp_path / "stdout", tmp_path / "stderr"
    with out_path.open("w") as out, err_path.open("w") as err:
        demo = subprocess.Popen(
            [sys.executable, "-m", "tidal", "demo", "--records", "200000"],
            stdout=out,
            stderr=err,
            env=env,
        )
        try:
            deadline = time.monotonic() + 60
            while "broker on" not in out_path.read_text() and time.monotonic() < deadline:
                assert demo.poll() is None, err_path.read_text()
                time.sleep(0.1)
            assert "broker on" in out_path.read_text(), err_path.read_text()
            time.sleep(2.0)  # the app's wait and the producer are running
            assert demo.poll() is None, "the demo ended before Ctrl-C"
            demo.send_signal(signal.SIGINT)
            code = demo.wait(timeout=60)
        finally:
            if demo.poll() is None:
                demo.kill()
                demo.wait(timeout=10)
    stderr = err_path.read_text()
    assert code == 130, stderr
    assert "Traceback" not in stderr
    assert "never retrieved" not in stderr
    assert list(tmp_path.glob("tidal-demo-*")) == [], "the temporary directory was left"
