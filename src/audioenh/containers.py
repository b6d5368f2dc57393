"""Formats libsndfile cannot decode (AAC/M4A, ALAC, WMA, ...), read through PyAV when it is installed
(``pip install 'audioenh[aac]'``; its wheels carry FFmpeg).

:func:`readable` gives a path libsndfile reads: the file itself, or a temporary 32-bit float WAV
decoded from it frame by frame (constant memory), with its text tags (title, artist, album, ...),
removed when the ``with`` block ends. Without PyAV such files are refused in one line that says
how to convert them or install it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import soundfile as sf

from .audio_io import UNSUPPORTED_CONTAINERS, conversion_command
from .errors import AudioFileError

#: FFmpeg metadata keys -> libsndfile's text tags
_TAGS = {
    "title": "title",
    "artist": "artist",
    "album": "album",
    "date": "date",
    "genre": "genre",
    "comment": "comment",
    "track": "tracknumber",
    "copyright": "copyright",
}


def needs_decoding(path: str | os.PathLike) -> bool:
    """True for a file in a format libsndfile cannot read but PyAV may (by extension, then by trying)."""
    p = Path(path)
    if p.suffix.lower() not in UNSUPPORTED_CONTAINERS or not p.is_file():
        return False
    try:
        sf.info(str(p))
    except (sf.LibsndfileError, RuntimeError, TypeError):
        return True
    return False


def decode_to_wav(path: str | os.PathLike, destination: str | os.PathLike) -> int:
    """Decode ``path``'s first audio stream with PyAV into a float WAV at ``destination`` (its own rate
    and channels, at most two), tags included; returns the frames written. One-line
    :class:`AudioFileError` when PyAV is missing or cannot decode the file."""
    p = Path(path)
    kind = UNSUPPORTED_CONTAINERS.get(p.suffix.lower(), p.suffix)
    try:
        import av
    except ImportError:
        raise AudioFileError(
            f"cannot read {str(p)!r}: {kind} files need PyAV, which is not installed; install PyAV "
            f"(pip install 'audioenh[aac]') or convert it first, e.g. {conversion_command(p)}"
        ) from None
    frames = 0
    try:
        with av.open(str(p)) as container:
            if not container.streams.audio:
                raise AudioFileError(f"cannot read {str(p)!r}: it holds no audio stream")
            stream = container.streams.audio[0]
            channels = stream.codec_context.channels
            if channels > 2:
                raise AudioFileError(
                    f"{str(p)!r} has {channels} channels; only mono and stereo are supported (mix it down first)"
                )
            rate = stream.codec_context.sample_rate
            layout = "mono" if channels == 1 else "stereo"
            resampler = av.AudioResampler(format="fltp", layout=layout, rate=rate)  # planar float, same rate
            with sf.SoundFile(str(destination), "w", rate, channels, subtype="FLOAT", format="WAV") as out:
                for key, tag in _TAGS.items():
                    value = container.metadata.get(key)
                    if value:
                        setattr(out, tag, str(value))
                for frame in [*container.decode(stream), None]:  # None flushes the resampler
                    for converted in resampler.resample(frame):
                        block = converted.to_ndarray()[:channels].T
                        out.write(block)
                        frames += block.shape[0]
    except AudioFileError:
        raise
    except Exception as exc:  # av.error.*: damaged or foreign file
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise AudioFileError(f"cannot read {str(p)!r}: PyAV could not decode it ({reason})") from None
    if frames == 0:
        raise AudioFileError(f"cannot read {str(p)!r}: it contains no samples")
    return frames


@contextmanager
def readable(path: str | os.PathLike) -> Iterator[Path]:
    """``path`` when libsndfile reads it; else a temporary float WAV decoded from it (named like it,
    so progress bars show the song's name), removed afterwards."""
    p = Path(path)
    if not needs_decoding(p):
        yield p
        return
    folder = Path(tempfile.mkdtemp(prefix="audioenh-decoded-"))
    try:
        decoded = folder / (p.stem + ".wav")
        decode_to_wav(p, decoded)
        yield decoded
    finally:
        shutil.rmtree(folder, ignore_errors=True)


__all__ = ["decode_to_wav", "needs_decoding", "readable"]
