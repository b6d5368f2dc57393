"""The command line keeps freed memory in the process (glibc's mallopt), unless told not to."""

import ctypes.util
import json
import os
import subprocess
import sys

import pytest

from audioenh import allocator

glibc = pytest.mark.skipif(
    not sys.platform.startswith("linux") or "libc.so.6" not in str(ctypes.util.find_library("c")),
    reason="mallopt is glibc's",
)
PROBE = "import json; from audioenh.allocator import keep_freed_memory; print(json.dumps(keep_freed_memory()))"


def probe(**env) -> dict:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_") and k != "AUDIOENH_KEEP_FREED_MEMORY"}
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env={**clean, **env})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@glibc
def test_thresholds_are_raised_in_a_fresh_process():
    assert probe() == {
        "MALLOC_MMAP_THRESHOLD_": allocator.MMAP_THRESHOLD,
        "MALLOC_TRIM_THRESHOLD_": allocator.TRIM_THRESHOLD,
        "MALLOC_TOP_PAD_": allocator.TOP_PAD,
    }
    assert allocator.MMAP_THRESHOLD > 32 << 20  # above glibc's adaptive ceiling, or nothing changes


@glibc
def test_the_users_environment_wins_and_it_can_be_turned_off():
    assert "MALLOC_MMAP_THRESHOLD_" not in probe(MALLOC_MMAP_THRESHOLD_="65536")
    assert set(probe(MALLOC_MMAP_THRESHOLD_="65536")) == {"MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_"}
    assert probe(AUDIOENH_KEEP_FREED_MEMORY="0") == {}


def test_command_line_entry_point_applies_it(monkeypatch):
    from audioenh import cli

    calls = []
    monkeypatch.setattr(allocator, "keep_freed_memory", lambda: calls.append(1) or {})
    monkeypatch.setattr(cli, "cli", lambda **kwargs: calls.append(kwargs))
    cli.main()
    assert calls == [1, {"prog_name": "audioenh"}]
