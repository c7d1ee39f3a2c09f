"""The per-user running aggregate example prints the right running and final totals."""

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "streams_user_totals.py"


def _example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("streams_user_totals", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _money(cents: int) -> str:
    return f"{cents / 100:.2f}"


def test_streams_user_totals(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLE), str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    out = result.stdout
    payments: list[tuple[str, int]] = _example().PAYMENTS

    # alice's running aggregate, one line per payment, in payment order.
    running = []
    count = total = largest = 0
    for user, cents in payments:
        if user == "alice":
            count, total, largest = count + 1, total + cents, max(largest, cents)
            running.append(
                f"alice: payments={count} total={_money(total)} largest={_money(largest)}"
            )
    assert re.findall(r"^  (alice: .*)$", out, re.MULTILINE) == running
    assert f"'user-totals' received {len(payments)} updates" in out

    final = out.split("final totals (local query of store 'totals'):")[1].split("\n\n")[0]
    want = {}
    for user in sorted({u for u, _ in payments}):
        amounts = [c for u, c in payments if u == user]
        want[user] = (len(amounts), _money(sum(amounts)), _money(max(amounts)))
    got = {
        user: (int(n), t, big)
        for user, n, t, big in re.findall(
            r"^  (\w+)\s+payments=(\d+) total=([\d.]+) largest=([\d.]+)$", final, re.MULTILINE
        )
    }
    assert got == want

    spenders = sorted(u for u, (_, t, _) in want.items() if float(t) > 100)
    assert spenders == ["alice", "bob", "dave", "erin"]
    assert f"big spenders (total above 100.00): {', '.join(spenders)}" in out
    assert (tmp_path / "user-totals" / "broker" / "user-totals-totals-changelog-0").is_dir()
