"""Shared scaffolding for the benchmark smoke tests: load a ``bench/*.py`` script."""

import importlib.util
import math
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def positive(value: Any) -> bool:
    """A finite number above zero."""
    return isinstance(value, int | float) and math.isfinite(value) and value > 0


def load_bench(monkeypatch: pytest.MonkeyPatch, script: Path, name: str) -> ModuleType:
    """Import ``script`` as module ``name``, registered in ``sys.modules`` for the test."""
    monkeypatch.syspath_prepend(str(script.parent))  # its sibling modules, as when run
    spec = importlib.util.spec_from_file_location(name, script)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # Dataclasses look their module up in sys.modules.
    monkeypatch.setitem(sys.modules, spec.name, module)
    spec.loader.exec_module(module)
    return module
