"""Build the optional C accelerator; everything else is in pyproject.toml.

``optional=True``: when the extension does not compile (no compiler, no
Python headers), the install still succeeds and ``tidal.log.records`` uses
its pure-Python record walker and decoder.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "tidal.log.records._speedups",
            ["log/records/_speedups.c"],
            optional=True,
        )
    ]
)
