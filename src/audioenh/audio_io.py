"""Reading and writing audio files, with one-line errors and atomic writes."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from .errors import AudioFileError

FLOAT_SUBTYPES = ("FLOAT", "DOUBLE")


@dataclass(frozen=True)
class AudioInfo:
    """What a file held: sample rate (Hz), channels, frames (samples per channel), format and subtype."""

    sample_rate: int
    channels: int
    frames: int
    format: str
    subtype: str

    @property
    def is_float(self) -> bool:
        return self.subtype in FLOAT_SUBTYPES


def sndfile_reason(exc: BaseException) -> str:
    """The last part of a libsndfile error message (what went wrong, without the path)."""
    return str(exc).split(":")[-1].strip() or type(exc).__name__


def probe_audio(path: str | os.PathLike) -> AudioInfo:
    """Open ``path`` without reading its samples; one-line :class:`AudioFileError` for missing,
    empty, unreadable and zero-length files."""
    p = Path(path)
    if not p.exists():
        raise AudioFileError(f"cannot read {str(p)!r}: no such file")
    if p.is_dir():
        raise AudioFileError(f"cannot read {str(p)!r}: it is a directory")
    if p.stat().st_size == 0:
        raise AudioFileError(f"cannot read {str(p)!r}: the file is empty")
    try:
        with sf.SoundFile(str(p)) as f:
            info = AudioInfo(f.samplerate, f.channels, f.frames, f.format, f.subtype)
    except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
        raise AudioFileError(f"cannot read {str(p)!r}: not a readable audio file ({sndfile_reason(exc)})") from None
    if info.frames <= 0:
        raise AudioFileError(f"cannot read {str(p)!r}: it contains no samples")
    return info


def read_audio(path: str | os.PathLike, dtype: str = "float64") -> tuple[np.ndarray, int, AudioInfo]:
    """Read ``path`` as (channels, samples) floats in [-1, 1] (PCM) or as stored (float files).

    Raises :class:`AudioFileError` for missing, empty, unreadable or zero-length files and for
    files holding NaN or infinite samples.
    """
    p = Path(path)
    info = probe_audio(p)
    try:
        data = sf.read(str(p), dtype=dtype, always_2d=True)[0]
    except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
        raise AudioFileError(f"cannot read {str(p)!r}: not a readable audio file ({sndfile_reason(exc)})") from None
    if data.shape[0] == 0:
        raise AudioFileError(f"cannot read {str(p)!r}: it contains no samples")
    if not np.all(np.isfinite(data)):
        raise AudioFileError(f"{str(p)!r} contains NaN or infinite samples")
    return np.ascontiguousarray(data.T), info.sample_rate, info


def output_subtype(path: str | os.PathLike, wanted: str | None) -> tuple[str, str | None]:
    """The (format, subtype) to write ``path`` with, keeping ``wanted`` where the format allows it."""
    ext = Path(path).suffix.lower().lstrip(".")
    formats = {k.lower(): k for k in sf.available_formats()}
    aliases = {"aif": "aiff", "oga": "ogg", "opus": "ogg"}
    fmt = formats.get(aliases.get(ext, ext))
    if fmt is None:
        raise AudioFileError(
            f"cannot write {str(path)!r}: unknown audio extension {('.' + ext) if ext else '(none)'}; "
            "use .wav, .flac, .ogg, .mp3, ..."
        )
    if wanted and sf.check_format(fmt, wanted):
        return fmt, wanted
    if ext == "opus":
        return fmt, "OPUS"
    return fmt, sf.default_subtype(fmt)


def write_audio(path: str | os.PathLike, audio: np.ndarray, sample_rate: int, subtype: str | None = None) -> None:
    """Write (channels, samples) audio atomically (temporary file, then rename).

    PCM subtypes are clipped to [-1, 1] first. Nothing is left at ``path`` if writing fails.
    """
    p = Path(path)
    fmt, sub = output_subtype(p, subtype)
    if not p.parent.exists():
        raise AudioFileError(f"cannot write {str(p)!r}: directory {str(p.parent)!r} does not exist")
    data = np.asarray(audio).T
    if sub not in FLOAT_SUBTYPES:
        data = np.clip(data, -1.0, 1.0)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".part", dir=p.parent)
    os.close(fd)
    try:
        sf.write(tmp, data, int(sample_rate), subtype=sub, format=fmt)
        os.replace(tmp, p)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, (sf.LibsndfileError, RuntimeError, ValueError)):
            raise AudioFileError(f"cannot write {str(p)!r}: {exc}") from None
        raise


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """True when ``a`` and ``b`` name the same file (also through links or relative paths)."""
    pa, pb = Path(a), Path(b)
    if pa.exists() and pb.exists():
        return os.path.samefile(pa, pb)
    return pa.resolve() == pb.resolve()
