"""Reading and writing audio files, with one-line errors and atomic writes."""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from .errors import AudioFileError
from .fileio import atomic_path

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


#: common formats libsndfile cannot read, by extension: named in the error with a conversion hint
UNSUPPORTED_CONTAINERS = {
    ".m4a": "AAC/M4A",
    ".aac": "AAC",
    ".mp4": "MP4",
    ".m4b": "AAC/M4B",
    ".alac": "ALAC",
    ".wma": "WMA",
    ".ape": "Monkey's Audio",
}


def conversion_command(path: Path) -> str:
    """The ffmpeg command that converts ``path`` to FLAC next to it (for hints in error messages)."""
    return f"ffmpeg -i {shlex.quote(path.name)} {shlex.quote(path.with_suffix('.flac').name)}"


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
        hint = UNSUPPORTED_CONTAINERS.get(p.suffix.lower())
        if hint:
            raise AudioFileError(
                f"cannot read {str(p)!r}: {hint} files are not supported here (libsndfile cannot decode them; "
                f"audioenh enhance reads them with PyAV: pip install 'audioenh[aac]'); convert it first, e.g. "
                f"{conversion_command(p)}"
            ) from None
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


_SUBTYPE_NAMES = {"PCM_16": "16-bit PCM", "PCM_24": "24-bit PCM", "PCM_32": "32-bit PCM", "FLOAT": "32-bit float"}
DEFAULT_SUBTYPE = "PCM_24"  # written where the format has it and nothing else is asked for
_EXT_ALIASES = {"aif": "aiff", "oga": "ogg", "opus": "ogg"}
_EXT_SUBTYPES = {"opus": ("OPUS",)}  # extensions that fix the encoding inside their container
_LOSSY = ("MPEG_LAYER_I", "MPEG_LAYER_II", "MPEG_LAYER_III", "VORBIS", "OPUS")  # kept only where there is no PCM


def _format_of(path: str | os.PathLike) -> tuple[str, str]:
    """(libsndfile format, lower-case extension) for ``path``; unknown extensions are refused."""
    ext = Path(path).suffix.lower().lstrip(".")
    formats = {k.lower(): k for k in sf.available_formats()}
    fmt = formats.get(_EXT_ALIASES.get(ext, ext))
    if fmt is None:
        raise AudioFileError(
            f"cannot write {str(path)!r}: unknown audio extension {('.' + ext) if ext else '(none)'}; "
            "use .wav, .flac, .ogg, .mp3, ..."
        )
    return fmt, ext


def is_audio_file_name(path: str | os.PathLike) -> bool:
    """True when ``path``'s extension is one audioenh writes audio to (.wav, .flac, .mp3, ...)."""
    try:
        _format_of(path)
    except AudioFileError:
        return False
    return True


def _holds(fmt: str, ext: str, subtype: str) -> bool:
    only = _EXT_SUBTYPES.get(ext)
    return subtype in only if only else bool(sf.check_format(fmt, subtype))


def output_format(
    path: str | os.PathLike, subtype: str | None = None, *, keep: str | None = None
) -> tuple[str, str | None]:
    """The (format, subtype) to write ``path`` with; the format follows the extension.

    The one output policy of audioenh, in this order:

    1. an explicit ``subtype`` (e.g. ``"PCM_16"``, ``"FLOAT"``) must fit the format, else a one-line
       :class:`AudioFileError` says what the format holds (e.g. FLAC with ``"FLOAT"``);
    2. ``keep`` (e.g. the input's subtype, as ``degrade`` passes it) where the format holds it; a
       lossy codec (MP3, Vorbis, Opus) is kept only in a format without PCM (an .mp3 input
       degraded to .wav gives PCM, not MP3 inside a WAV file);
    3. 24-bit PCM where the format has it;
    4. the format's own default (Vorbis for .ogg, Opus for .opus, MPEG layer III for .mp3).
    """
    fmt, ext = _format_of(path)
    if subtype is not None:
        sub = subtype.upper()
        if _holds(fmt, ext, sub):
            return fmt, sub
        held = [name for key, name in _SUBTYPE_NAMES.items() if _holds(fmt, ext, key)]
        if not held:
            held = [name for key, name in sf.available_subtypes(fmt).items() if _holds(fmt, ext, key)]
        can = f"it holds {', '.join(held)}" if held else "it has no sample formats libsndfile can write"
        raise AudioFileError(
            f"cannot write {str(path)!r} as {_SUBTYPE_NAMES.get(sub, sub)}: the {fmt} format cannot hold it "
            f"({can}); choose another sample format or write .wav"
        )
    keep = keep.upper() if keep else None
    if keep and _holds(fmt, ext, keep) and not (keep in _LOSSY and _holds(fmt, ext, "PCM_16")):
        return fmt, keep
    if _holds(fmt, ext, DEFAULT_SUBTYPE):
        return fmt, DEFAULT_SUBTYPE
    only = _EXT_SUBTYPES.get(ext)
    return fmt, only[0] if only else sf.default_subtype(fmt)


def write_audio(path: str | os.PathLike, audio: np.ndarray, sample_rate: int, subtype: str | None = None) -> str | None:
    """Write (channels, samples) audio atomically (through :func:`audioenh.fileio.atomic_path`).

    ``subtype`` is the sample format wanted (``degrade`` passes the input's): it is kept where the
    output format holds it, else :func:`output_format` picks (24-bit PCM where the format has it,
    else the format's own encoding); it is ``output_format``'s ``keep``. Returns the subtype
    written. PCM subtypes are clipped to [-1, 1] first. Nothing is left at ``path`` (nor a
    temporary file beside it) if writing fails.
    """
    p = Path(path)
    fmt, sub = output_format(p, keep=subtype)
    if not p.parent.exists():
        raise AudioFileError(f"cannot write {str(p)!r}: directory {str(p.parent)!r} does not exist")
    if p.is_dir():
        raise AudioFileError(f"cannot write {str(p)!r}: it is a directory")
    data = np.asarray(audio).T
    if sub not in FLOAT_SUBTYPES:
        data = np.clip(data, -1.0, 1.0)
    try:
        with atomic_path(p) as tmp:
            sf.write(tmp, data, int(sample_rate), subtype=sub, format=fmt)
    except (sf.LibsndfileError, RuntimeError, ValueError) as exc:
        raise AudioFileError(f"cannot write {str(p)!r}: {sndfile_reason(exc)}") from None
    except OSError as exc:
        raise AudioFileError(f"cannot write {str(p)!r}: {exc.strerror or exc}") from None
    return sub


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """True when ``a`` and ``b`` name the same file (also through links or relative paths)."""
    pa, pb = Path(a), Path(b)
    if pa.exists() and pb.exists():
        return os.path.samefile(pa, pb)
    return pa.resolve() == pb.resolve()


def copy_tags(reader: sf.SoundFile, writer: sf.SoundFile) -> list[str]:
    """Copy ``reader``'s text tags (title, artist, album, date, ...) to ``writer`` before any sample is
    written, those the output's format can hold; returns the names copied."""
    copied = []
    for name, value in reader.copy_metadata().items():
        if not value:
            continue
        try:
            setattr(writer, name, value)
        except (sf.LibsndfileError, RuntimeError):
            continue  # the output format has no such tag
        copied.append(name)
    return copied
