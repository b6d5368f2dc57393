"""Golden test of the built-in generator: a seed's audio never changes without a version bump.

The corpus cache is keyed by ``GENERATOR_VERSION`` (``builtin-v{version}-...``), so any change to
the samples a seed produces must bump it, or stale cached corpora would silently be reused. The
song is quantised to 16 bits before hashing so that the hash pins the audio, not the last bits
of floating-point rounding.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys

import numpy as np

from audioenh.data.builtin import GENERATOR_VERSION, generate_song

SEED, SECONDS, SAMPLE_RATE = 1234, 3.0, 44100

#: GENERATOR_VERSION -> sha256 of generate_song(SEED, SECONDS, SAMPLE_RATE) as 16-bit little-endian PCM.
GOLDEN = {
    1: "3d834a90e8925eff2d5db235e0cb5888ea4658be582045c348af55912031ab39",
}

_HASH_SNIPPET = f"""
import hashlib
import numpy as np
from audioenh.data.builtin import generate_song
audio = generate_song({SEED}, {SECONDS!r}, {SAMPLE_RATE})
print(hashlib.sha256(np.round(np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes()).hexdigest())
"""


def song_hash(audio: np.ndarray) -> str:
    """sha256 (hex) of ``audio`` clipped to [-1, 1] and quantised to 16-bit little-endian PCM."""
    return hashlib.sha256(np.round(np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes()).hexdigest()


def test_generator_audio_matches_the_golden_hash():
    digest = song_hash(generate_song(SEED, SECONDS, SAMPLE_RATE))
    assert GOLDEN.get(GENERATOR_VERSION) == digest, (
        f"the built-in generator's audio changed: bump GENERATOR_VERSION and add its hash "
        f"(GENERATOR_VERSION = {GENERATOR_VERSION}, sha256 = {digest})"
    )


def test_generator_is_deterministic_across_processes():
    here = song_hash(generate_song(SEED, SECONDS, SAMPLE_RATE))
    result = subprocess.run([sys.executable, "-c", _HASH_SNIPPET], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == here
