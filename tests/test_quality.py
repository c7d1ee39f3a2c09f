"""The repository stays clean under mypy --strict and ruff."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    bindir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": bindir + os.pathsep + os.environ.get("PATH", "")}
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env, check=False)


def test_mypy_strict(tmp_path: Path) -> None:
    result = _run("env", f"TIDAL_TYPECHECK_TREE={tmp_path / 'tree'}", "bash", ".ci/typecheck")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_check() -> None:
    assert shutil.which("ruff", path=str(Path(sys.executable).parent)) is not None
    result = _run("ruff", "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format() -> None:
    result = _run("ruff", "format", "--check", ".")
    assert result.returncode == 0, result.stdout + result.stderr
