"""Keep freed memory in the process (glibc's allocator), so large tensors stop costing page faults.

With glibc's defaults a block larger than its (adaptive) mmap threshold is mapped fresh on every
allocation and handed back on every free, and the heap's top is trimmed whenever more than twice
that lies free: every activation of a CPU training step or an inference block (megabytes each)
then pays the kernel to zero new pages again. Raising the thresholds keeps those pages in the
process for the next tensor of the same size: the quick ResNet's CPU inference ran 1.6-1.9x faster
on a 2-core Intel Xeon VM (docs/performance.md). Peak memory is unchanged; what the process has
once used it keeps until it exits, up to :data:`TRIM_THRESHOLD` of it free.

``audioenh``'s command line applies it at start-up (:func:`keep_freed_memory`); set
``AUDIOENH_KEEP_FREED_MEMORY=0`` to leave the allocator alone. It does nothing where the C library is
not glibc, and the ``MALLOC_*_`` environment variables a user has set win.
"""

from __future__ import annotations

import ctypes
import os
import sys

#: blocks up to this size come from the heap (bytes; glibc's adaptive default stops at 32 MiB)
MMAP_THRESHOLD = 256 << 20
#: free memory at the heap's top kept rather than returned to the system (bytes)
TRIM_THRESHOLD = 1 << 30
#: extra memory asked of the system each time the heap grows (bytes)
TOP_PAD = 64 << 20

_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD = -1, -2, -3  # mallopt parameters (malloc.h)
_ENVIRONMENT = {
    _M_TRIM_THRESHOLD: "MALLOC_TRIM_THRESHOLD_",
    _M_TOP_PAD: "MALLOC_TOP_PAD_",
    _M_MMAP_THRESHOLD: "MALLOC_MMAP_THRESHOLD_",
}


def keep_freed_memory() -> dict[str, int]:
    """Raise glibc's mmap and trim thresholds (``mallopt``); returns the settings changed, by their
    environment variable's name (empty where nothing was changed: not glibc, turned off, or set by
    the user's environment)."""
    if os.environ.get("AUDIOENH_KEEP_FREED_MEMORY", "1") == "0" or not sys.platform.startswith("linux"):
        return {}
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl and others: not glibc
        return {}
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    changed = {}
    for parameter, value in (
        (_M_MMAP_THRESHOLD, MMAP_THRESHOLD),
        (_M_TRIM_THRESHOLD, TRIM_THRESHOLD),
        (_M_TOP_PAD, TOP_PAD),
    ):
        name = _ENVIRONMENT[parameter]
        if name not in os.environ and mallopt(parameter, value) == 1:
            changed[name] = value
    return changed
