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
