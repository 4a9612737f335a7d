"""Crash points: named places where a test may have the process kill itself.

The crash-point tests (``tests/integration/test_exchange_crashes.py``) start a real server or
worker with ``PANJEREH_CRASH_AT=<point>`` and check that nothing is lost or doubled when the
process dies there (SIGKILL: no cleanup, no flush, exactly like a power cut). Outside the
test environment (``PANJEREH_ENV=test``) the variable is ignored, so production code carries
these markers at no risk and almost no cost.
"""

from __future__ import annotations

import os
import signal

_POINT = os.environ.get("PANJEREH_CRASH_AT") if os.environ.get("PANJEREH_ENV") == "test" else None


def crashpoint(name: str) -> None:
    """Die here, at once, if the test environment asked for a crash at ``name``."""
    if _POINT is not None and name == _POINT:
        os.kill(os.getpid(), signal.SIGKILL)
