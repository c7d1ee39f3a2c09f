"""The package layout: one `tidal` import package assembled from top-level folders."""

import os
import shutil
import subprocess
import sys
import sysconfig
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
    code = "import tidal.log, tidal.streams, tidal.connectors; print(tidal.log.__file__)"
    result = subprocess.run(
        [python, "-c", code],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={**os.environ, "PYTHONPATH": ""},
    )
    assert result.returncode == 0, f"import failed in {cwd}:\n{result.stderr}"
    return result.stdout.strip()


def test_import_from_repository_root_and_elsewhere(tmp_path: Path) -> None:
    assert Path(_import_from(ROOT)).resolve() == (ROOT / "log" / "__init__.py").resolve()
    assert Path(_import_from(tmp_path)).resolve() == (ROOT / "log" / "__init__.py").resolve()


def _source_copy(dest: Path) -> Path:
    """The files a build reads, copied: building in the repository would share
    its ``build/`` folder with any other build running at the same time, and
    pick up whatever a stale one holds."""
    dest.mkdir()
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy2(ROOT / name, dest / name)
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", "*.so")
    for folder in ("src", *(path.name for path in list(FOLDERS.values())[1:])):
        shutil.copytree(ROOT / folder, dest / folder, ignore=skip)
    return dest


@pytest.mark.slow
def test_normal_install_imports_from_site_packages(tmp_path: Path) -> None:
    """A wheel built and installed without the network: built by this
    interpreter without build isolation (setuptools and wheel come with the
    ``test`` extra), installed with ``--no-index``, into a fresh venv that sees
    this interpreter's site-packages for the dependencies only (a ``.pth`` line
    adds the folder without running the ``.pth`` files in it, so an editable
    ``tidal`` there stays invisible)."""
    source = _source_copy(tmp_path / "source")
    wheels = tmp_path / "wheels"
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
             "--no-index", "-q", "-w", str(wheels), str(source)]  # fmt: skip
    built = subprocess.run(build, capture_output=True, text=True, timeout=300, check=False)
    assert built.returncode == 0, built.stderr
    [wheel] = wheels.glob("tidal-*.whl")

    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = str(env_dir / "bin" / "python")
    install = [python, "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)]
    installed = subprocess.run(
        install, capture_output=True, text=True, timeout=300, check=False, cwd=tmp_path
    )
    assert installed.returncode == 0, installed.stderr
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    site_packages = env_dir / "lib" / version / "site-packages"
    dependencies = sorted({sysconfig.get_path("purelib"), sysconfig.get_path("platlib")})
    (site_packages / "zz-test-dependencies.pth").write_text("\n".join(dependencies) + "\n")

    for cwd in (ROOT, tmp_path):
        location = Path(_import_from(cwd, python))
        assert location == site_packages / "tidal" / "log" / "__init__.py"
    package = site_packages / "tidal"
    assert (package / "log" / "records" / "_batch.py").is_file()
    assert (package / "py.typed").is_file()
