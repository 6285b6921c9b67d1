"""Hypothesis profiles: CI=true runs the same examples on every run (derandomised, no example database),
so that a red build is reproducible and a green one is not luck; elsewhere examples vary from run to run.
Neither has a deadline: a case's time depends on the machine's load, not on the code under test."""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, database=None, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") == "true" else "dev")
