"""Run the batch tests against both record walkers/decoders.

``_batch`` dispatches to the compiled ``_speedups`` module when it is built;
the modules below run once with it (``[c]``) and once with the pure-Python
fallback (``[python]``). Other tests use whatever the import chose.
"""

import os

import pytest

from tidal.log.records import _batch

BOTH_IMPLEMENTATIONS = frozenset(
    {"test_batch.py", "test_properties.py", "test_golden_vectors.py", "test_control.py"}
)


def speedups_missing_reason() -> str:
    """Why the compiled record code is not in use ("" when it is)."""
    if _batch.SPEEDUPS:
        return ""
    if os.environ.get("TIDAL_NO_SPEEDUPS", "") not in ("", "0"):
        return "TIDAL_NO_SPEEDUPS is set"
    return (
        "the C accelerator tidal.log.records._speedups is not built; "
        "`pip install -e .` with a C compiler and the Python headers builds it"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if (
        "records_impl" in metafunc.fixturenames
        and metafunc.definition.path.name in BOTH_IMPLEMENTATIONS
    ):
        reason = speedups_missing_reason()
        compiled = pytest.param("c", marks=pytest.mark.skip(reason=reason) if reason else ())
        metafunc.parametrize("records_impl", [compiled, "python"], indirect=True)


@pytest.fixture(autouse=True)
def records_impl(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Which implementation ``_walk_records``/``_decode_records`` dispatch to."""
    impl: str = getattr(request, "param", "c" if _batch.SPEEDUPS else "python")
    monkeypatch.setattr(_batch, "_use_speedups", impl == "c")
    return impl
