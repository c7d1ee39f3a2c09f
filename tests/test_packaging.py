"""The package layout: one `tidal` import package assembled from top-level folders."""

import os
import subprocess
import sys
import tomllib
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = {
    "tidal": ROOT / "src" / "tidal",
    "tidal.log": ROOT / "log",
    "tidal.streams": ROOT / "streams",
    "tidal.connectors": ROOT / "connectors",
}


def _declared_packages() -> set[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return set(config["tool"]["setuptools"]["packages"])


def _packages_on_disk() -> set[str]:
    found = set()
    for name, folder in FOLDERS.items():
        for init in folder.rglob("__init__.py"):
            relative = init.parent.relative_to(folder).parts
            found.add(".".join((name, *relative)))
    return found


def test_every_package_folder_is_declared() -> None:
    assert _packages_on_disk() == _declared_packages()


def _import_from(cwd: Path, python: str = sys.executable) -> str:
    # Only the packages without third-party imports: the normal-install check
    # installs with --no-deps.
    code = "import tidal.log, tidal.streams, tidal.connectors; print(tidal.log.__file__)"
    result = subprocess.run(
        [python, "-c", code],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": ""},
    )
    return result.stdout.strip()


def test_import_from_repository_root_and_elsewhere(tmp_path: Path) -> None:
    assert Path(_import_from(ROOT)).resolve() == (ROOT / "log" / "__init__.py").resolve()
    assert Path(_import_from(tmp_path)).resolve() == (ROOT / "log" / "__init__.py").resolve()


@pytest.mark.slow
def test_normal_install_imports_from_site_packages(tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = str(env_dir / "bin" / "python")
    subprocess.run(
        [python, "-m", "pip", "install", "-q", "--no-deps", str(ROOT)],
        check=True,
        capture_output=True,
        cwd=tmp_path,
    )
    for cwd in (ROOT, tmp_path):
        location = Path(_import_from(cwd, python))
        assert "site-packages" in location.parts
        assert location.parts[-2:] == ("log", "__init__.py")
    installed = env_dir / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    package = installed / "site-packages" / "tidal"
    assert (package / "log" / "records" / "_batch.py").is_file()
    assert (package / "py.typed").is_file()
