"""How many CPU cores this process may use (its affinity mask on Linux, else the machine's count)."""

from __future__ import annotations

import os


def usable_cores() -> int:
    """CPU cores this process may run on (at least 1)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
