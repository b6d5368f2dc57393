"""The bundled model's speed target (issue: a pretrained model in the package), as a benchmark.

    pytest tests/benchmarks/test_bench_bundled_model.py --benchmark-only

``audioenh enhance`` of a 10-minute stereo FLAC, low-passed so that the network runs on every block,
with the bundled model and no model argument, in a subprocess: wall clock (decoding, analysis,
encoding and Python start-up included) at least 20x real time, and peak memory (the child's
maximum RSS) under 1 GB, on 2 CPU cores. Figures measured: docs/model.md.
"""

import resource
import subprocess
import sys
import time

import numpy as np
import pytest
import soundfile as sf
from scipy import signal

SR = 44100
MINUTES = 10
MIN_REAL_TIME_FACTOR = 20.0
MAX_RSS_BYTES = 1 << 30


@pytest.fixture(scope="module")
def ten_minutes_low_passed(tmp_path_factory):
    from audioenh.data.builtin import generate_song

    song = generate_song(3, 20.0, SR)
    sos = signal.cheby1(6, 0.05, 11025, fs=SR, output="sos")
    limited = signal.sosfiltfilt(sos, song, axis=-1)
    path = tmp_path_factory.mktemp("long") / "ten-minutes.flac"
    with sf.SoundFile(path, "w", SR, 2, subtype="PCM_16") as f:
        for _ in range(MINUTES * 3):  # 30 x 20 s, written block by block
            f.write(np.clip(limited.T, -1, 1))
    return path


def test_enhance_ten_minutes_with_the_bundled_model(benchmark, ten_minutes_low_passed, tmp_path):
    seconds = MINUTES * 60.0

    def run() -> float:
        started = time.perf_counter()
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "audioenh",
                "enhance",
                str(ten_minutes_low_passed),
                "-o",
                str(tmp_path / "out.flac"),
                "-q",
            ],
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stderr
        return time.perf_counter() - started

    wall = benchmark.pedantic(run, rounds=1, iterations=1)
    peak_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024  # kB on Linux
    benchmark.extra_info.update(real_time_factor=seconds / wall, peak_rss_mb=peak_rss / 1e6)
    assert seconds / wall >= MIN_REAL_TIME_FACTOR, f"{seconds / wall:.1f}x real time"
    assert peak_rss < MAX_RSS_BYTES, f"peak RSS {peak_rss / 1e6:.0f} MB"
