"""Corpora: songs split into train / val / test, read as stereo 44.1 kHz float32 excerpts.

A corpus is described by one or more *data specs* (see :func:`resolve_corpus`):

* ``builtin`` or ``builtin:songs=24,seconds=16,seed=0``: the procedurally generated corpus of
  :mod:`audioenh.data.builtin` (generated once, cached);
* a folder (or ``folder:PATH``) holding ``train/``, ``val/`` and ``test/`` subfolders of audio files;
* ``dsd100:PATH``: the DSD100 layout, split as in Sulun & Davies (2021): ``Mixtures/Test`` is
  the test set, the last 8 ``Mixtures/Dev`` songs (sorted by name) validate, the other Dev songs train;
* ``medleydb:PATH``: the MedleyDB layout (``Audio/<song>/<song>_MIX.wav``), all songs train.

Several specs combine: their splits are concatenated in the order given.

Songs are never loaded whole. WAV/FLAC/AIFF files at 44.1 kHz are read by seeking. Other
sample rates are resampled once with soxr (and OGG/MP3 files, whose seeking is not sample
accurate, decoded once) into float32 ``.npy`` files in the cache
(``default_cache_dir()/resampled``), which are then memory-mapped.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import inspect
import os
import re
import sys
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf

from ..audio_io import sndfile_reason
from ..errors import AudioenhError, AudioFileError, SpecError
from ..fileio import atomic_path

#: The rate every song is read at (Hz).
SAMPLE_RATE = 44100
SPLITS = ("train", "val", "test")
AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".mp3", ".aif", ".aiff")
#: soxr quality used for resampling ("HQ": 20-bit precision, passband to ~91 % of Nyquist).
RESAMPLE_QUALITY = "HQ"
#: Formats read by seeking; others (OGG Vorbis, MP3) are decoded once into the cache, because
#: libsndfile's seeking in them is not sample accurate.
SEEKABLE_FORMATS = frozenset({"WAV", "WAVEX", "W64", "RF64", "FLAC", "AIFF", "CAF", "AU"})
#: Songs of DSD100's Dev set used for validation (the last ones in sorted order), as in the paper.
DSD100_VALIDATION_SONGS = 8
#: Bumped when the cached arrays' content would change.
CACHE_VERSION = 1

_BLOCK = 1 << 16
_PREFIXES = ("builtin", "folder", "dsd100", "medleydb")

Echo = Callable[[str], None]


def _stderr(message: str) -> None:
    print(message, file=sys.stderr)


def _cache_root(cache_dir: str | os.PathLike | None) -> Path:
    if cache_dir is not None:
        return Path(cache_dir)
    from ..cache import default_cache_dir

    return default_cache_dir()


# ----------------------------------------------------------------------------------------------
# Songs


@dataclass(frozen=True)
class Song:
    """One audio file of a corpus.

    ``sample_rate``, ``frames`` and ``channels`` are the file's own; :meth:`read` always gives
    stereo float32 at 44.1 kHz, and :attr:`frames_at_rate` is the song's length at that rate.
    """

    name: str
    path: Path
    split: str
    sample_rate: int
    frames: int
    channels: int
    format: str = "WAV"
    cache_dir: Path | None = field(default=None, compare=False, repr=False)

    @classmethod
    def from_file(
        cls, path: str | os.PathLike, split: str, name: str | None = None, cache_dir: str | os.PathLike | None = None
    ) -> Song:
        """Read ``path``'s header (not its samples); unreadable, empty or >2-channel files are refused."""
        p = Path(path)
        if not p.is_file():
            raise AudioFileError(f"cannot read {str(p)!r}: no such file")
        try:
            info = sf.info(str(p))
        except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
            reason = str(exc).split(":")[-1].strip() or "unknown error"
            raise AudioFileError(f"cannot read {str(p)!r}: not a readable audio file ({reason})") from None
        if info.channels > 2:
            raise AudioFileError(
                f"{str(p)!r} has {info.channels} channels; only mono and stereo songs are supported (mix it down first)"
            )
        if info.frames <= 0:
            raise AudioFileError(f"cannot read {str(p)!r}: it contains no samples")
        return cls(
            name=name if name is not None else p.stem,
            path=p,
            split=split,
            sample_rate=int(info.samplerate),
            frames=int(info.frames),
            channels=int(info.channels),
            format=str(info.format),
            cache_dir=Path(cache_dir) if cache_dir is not None else None,
        )

    # -- geometry ----------------------------------------------------------------------------
    @property
    def frames_at_rate(self) -> int:
        """Length in samples at 44.1 kHz."""
        if self.sample_rate == SAMPLE_RATE:
            return self.frames
        return (self.frames * SAMPLE_RATE + self.sample_rate // 2) // self.sample_rate

    @property
    def seconds(self) -> float:
        return self.frames / self.sample_rate

    @property
    def needs_cache(self) -> bool:
        """True when the song is read from a resampled / decoded ``.npy`` copy rather than the file."""
        return self.sample_rate != SAMPLE_RATE or self.format.upper() not in SEEKABLE_FORMATS

    def cache_path(self) -> Path:
        """Where the resampled / decoded copy lives; the name depends on the file's path, size and mtime."""
        st = self.path.stat()
        key = "|".join(
            str(v)
            for v in (self.path.resolve(), st.st_size, st.st_mtime_ns, SAMPLE_RATE, RESAMPLE_QUALITY, CACHE_VERSION)
        )
        digest = hashlib.sha256(key.encode()).hexdigest()[:20]
        stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", self.path.stem)[:60] or "song"
        return _cache_root(self.cache_dir) / "resampled" / f"{stem}-{digest}.npy"

    def is_prepared(self) -> bool:
        return not self.needs_cache or self.cache_path().is_file()

    def prepare(self) -> bool:
        """Make sure the cached copy exists (when one is needed); True when it had to be made."""
        if self.is_prepared():
            return False
        with atomic_path(self.cache_path()) as tmp:
            self._write_cache(tmp)
        return True

    def _write_cache(self, tmp: Path) -> None:
        total = self.frames_at_rate
        out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=(total, self.channels))
        pos = 0
        for block in self._decoded_blocks():
            n = min(len(block), total - pos)
            if n > 0:
                out[pos : pos + n] = block[:n]
                pos += n
        out.flush()  # frames past ``pos`` (a codec's or resampler's rounding) stay zero

    def _decoded_blocks(self) -> Iterator[np.ndarray]:
        """The file's samples as float32 (frames, channels) blocks, resampled to 44.1 kHz where needed."""
        stream = None
        if self.sample_rate != SAMPLE_RATE:
            import soxr

            stream = soxr.ResampleStream(
                self.sample_rate, SAMPLE_RATE, self.channels, dtype="float32", quality=RESAMPLE_QUALITY
            )
        try:
            with sf.SoundFile(str(self.path)) as f:
                for block in f.blocks(blocksize=_BLOCK, dtype="float32", always_2d=True):
                    if not np.all(np.isfinite(block)):
                        raise AudioFileError(f"{str(self.path)!r} contains NaN or infinite samples")
                    yield stream.resample_chunk(block, last=False) if stream is not None else block
            if stream is not None:
                yield stream.resample_chunk(np.zeros((0, self.channels), np.float32), last=True)
        except (sf.LibsndfileError, RuntimeError) as exc:
            raise AudioFileError(f"cannot read {str(self.path)!r}: {sndfile_reason(exc)}") from None

    # -- reading -----------------------------------------------------------------------------
    def read(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Samples ``[start, stop)`` (44.1 kHz sample indices, clipped to the song) as float32 (2, n)."""
        total = self.frames_at_rate
        start = min(max(int(start), 0), total)
        stop = total if stop is None else min(max(int(stop), start), total)
        if start == 0 and stop == total and not self.needs_cache:
            return _DECODED.read(self)
        return self._read(start, stop)

    def _read(self, start: int, stop: int) -> np.ndarray:
        if self.needs_cache:
            self.prepare()
            data = np.asarray(_open_npy(str(self.cache_path()))[start:stop], dtype=np.float32)
        else:
            try:
                with sf.SoundFile(str(self.path)) as f:
                    if start:
                        f.seek(start)
                    data = f.read(stop - start, dtype="float32", always_2d=True)
            except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
                raise AudioFileError(f"cannot read {str(self.path)!r}: {sndfile_reason(exc)}") from None
            if not np.all(np.isfinite(data)):
                raise AudioFileError(f"{str(self.path)!r} contains NaN or infinite samples")
        if data.shape[1] == 1:
            data = np.repeat(data, 2, axis=1)
        return np.ascontiguousarray(data.T, dtype=np.float32)


class _DecodedSongs:
    """Whole songs decoded in this process, kept (up to ``budget`` bytes, least recently read dropped
    first) for the next whole read: testing reads every test song once per model and degradation, and
    the quick report decoded each FLAC about 50 times (28 ms for 16 s of stereo, 2-core VM). Keyed by
    the file's path, size and modification time, so an edited file is decoded afresh. A read gets a
    copy: callers may change it."""

    def __init__(self, budget: int):
        self.budget = budget
        self._songs: OrderedDict[tuple[str, int, int], np.ndarray] = OrderedDict()

    def read(self, song: Song) -> np.ndarray:
        try:
            stat = song.path.stat()
        except OSError:
            return song._read(0, song.frames_at_rate)  # reports the unreadable file as usual
        key = (str(song.path), stat.st_size, stat.st_mtime_ns)
        audio = self._songs.get(key)
        if audio is None:
            audio = song._read(0, song.frames_at_rate)
            if audio.nbytes <= self.budget:
                while self._songs and sum(a.nbytes for a in self._songs.values()) + audio.nbytes > self.budget:
                    self._songs.popitem(last=False)
                self._songs[key] = audio
        else:
            self._songs.move_to_end(key)
        return audio.copy()


#: whole decoded songs kept per process (bytes): the test songs of the quick report (23 MB) and the
#: real-recording set (42 MB) fit; longer songs are decoded on every read, as before
DECODED_SONGS_BUDGET = 64 << 20
_DECODED = _DecodedSongs(DECODED_SONGS_BUDGET)


@functools.lru_cache(maxsize=128)
def _open_npy(path: str) -> np.ndarray:
    return np.load(path, mmap_mode="r")


def prepare_songs(songs: Iterable[Song], echo: Echo | None = None) -> int:
    """Resample / decode into the cache every song that needs it, saying so; returns how many were made."""
    echo = echo or _stderr
    todo = [s for s in songs if not s.is_prepared()]
    groups: dict[tuple[str, str], dict[Path, Song]] = {}
    for s in todo:
        key = ("resample", str(s.sample_rate)) if s.sample_rate != SAMPLE_RATE else ("decode", s.format.upper())
        groups.setdefault(key, {})[s.cache_path()] = s  # a file listed twice is prepared once
    done = 0
    for (kind, what), group in groups.items():
        n = len(group)
        plural = "s" if n != 1 else ""
        if kind == "resample":
            echo(f"resampling {n} song{plural} from {what} Hz to {SAMPLE_RATE} Hz with soxr")
        else:
            echo(f"decoding {n} {what} song{plural} into the cache (seeking in {what} is not sample accurate)")
        for s in group.values():
            done += s.prepare()
    return done


def excerpt_bounds(frames: int, offset_seconds: float, seconds: float) -> tuple[int, int]:
    """[start, stop) in 44.1 kHz samples of the ``seconds``-long excerpt from ``offset_seconds`` into a song
    of ``frames`` samples; a song too short for that gives its last ``seconds`` (or all of it)."""
    n = int(round(seconds * SAMPLE_RATE))
    start = int(round(offset_seconds * SAMPLE_RATE))
    if start + n > frames:
        start = max(0, frames - n)
    return start, min(start + n, frames)


def validation_excerpt(song: Song, offset_seconds: float = 8.0, seconds: float = 8.0) -> np.ndarray:
    """The ``seconds``-long excerpt starting ``offset_seconds`` into ``song`` (float32, (2, n)).

    The paper validates on 8-s excerpts from 8 s into each validation song (see :func:`excerpt_bounds`).
    """
    return song.read(*excerpt_bounds(song.frames_at_rate, offset_seconds, seconds))


# ----------------------------------------------------------------------------------------------
# Corpora


@dataclass
class Corpus:
    """Songs by split, and the data specs they came from."""

    train: list[Song] = field(default_factory=list)
    val: list[Song] = field(default_factory=list)
    test: list[Song] = field(default_factory=list)
    specs: tuple[str, ...] = ()

    def split(self, name: str) -> list[Song]:
        """The songs of split ``name`` (``train``, ``val`` or ``test``)."""
        if name not in SPLITS:
            raise AudioenhError(f"unknown split {name!r}; splits are {', '.join(SPLITS)}")
        return getattr(self, name)

    @property
    def songs(self) -> list[Song]:
        return self.train + self.val + self.test

    def require(self, *names: str) -> Corpus:
        """Raise one clear line unless every split in ``names`` has songs; returns the corpus."""
        missing = [n for n in names if not self.split(n)]
        if missing:
            where = ", ".join(repr(s) for s in self.specs) or "(no data specs)"
            raise AudioenhError(
                f"the corpus has no {' and no '.join(missing)} songs (data: {where}); "
                f"add a data spec that provides {'them' if len(missing) > 1 else 'some'}, "
                "e.g. a folder with train/, val/ and test/ subfolders"
            )
        return self

    def summary(self) -> str:
        return ", ".join(f"{len(self.split(n))} {n}" for n in SPLITS) + " songs"

    def __add__(self, other: Corpus) -> Corpus:
        return Corpus(self.train + other.train, self.val + other.val, self.test + other.test, self.specs + other.specs)


def _audio_files(folder: Path) -> list[Path]:
    """Audio files below ``folder`` (recursively, hidden ones skipped), sorted by relative path."""
    if not folder.is_dir():
        return []
    found = [
        p
        for p in folder.rglob("*")
        if p.suffix.lower() in AUDIO_EXTENSIONS
        and p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    ]
    return sorted(found, key=lambda p: p.relative_to(folder).as_posix())


def _existing_folder(path: str, spec: str) -> Path:
    p = Path(path).expanduser()
    if not str(path).strip():
        raise AudioenhError(f"data spec {spec!r} names no folder")
    if not p.exists():
        raise AudioenhError(f"data folder {str(p)!r} (from data spec {spec!r}) does not exist")
    if not p.is_dir():
        raise AudioenhError(f"data spec {spec!r}: {str(p)!r} is a file, not a folder")
    return p


def _folder_entries(root: Path, spec: str) -> list[tuple[str, Path, str]]:
    entries = []
    for split in SPLITS:
        d = root / split
        for p in _audio_files(d):
            entries.append((split, p, p.relative_to(d).with_suffix("").as_posix()))
    if not entries:
        elsewhere = _audio_files(root)
        exts = " ".join(AUDIO_EXTENSIONS)
        if elsewhere:
            raise AudioenhError(
                f"data folder {str(root)!r} has {len(elsewhere)} audio files but none in train/, val/ or test/ "
                "subfolders; move them there"
            )
        raise AudioenhError(
            f"data folder {str(root)!r} holds no audio files (expected train/, val/, test/ subfolders of {exts})"
        )
    return entries


def _dsd100_entries(root: Path, spec: str) -> list[tuple[str, Path, str]]:
    mixtures = root / "Mixtures" if (root / "Mixtures").is_dir() else root
    dev, test = mixtures / "Dev", mixtures / "Test"
    if not dev.is_dir() and not test.is_dir():
        raise AudioenhError(
            f"{str(root)!r} does not look like DSD100 (data spec {spec!r}): no Mixtures/Dev or Mixtures/Test folder"
        )

    def songs(folder: Path) -> list[tuple[Path, str]]:
        if not folder.is_dir():
            return []
        out = []
        for d in sorted(
            (d for d in folder.iterdir() if d.is_dir() and not d.name.startswith(".")), key=lambda d: d.name
        ):
            mix = d / "mixture.wav"
            if not mix.is_file():
                raise AudioFileError(f"DSD100 song folder {str(d)!r} has no mixture.wav")
            out.append((mix, d.name))
        return out

    dev_songs, test_songs = songs(dev), songs(test)
    if not dev_songs and not test_songs:
        raise AudioenhError(f"DSD100 folder {str(mixtures)!r} holds no songs (no Dev/<song>/mixture.wav)")
    n_val = min(DSD100_VALIDATION_SONGS, len(dev_songs))
    cut = len(dev_songs) - n_val
    return (
        [("train", p, n) for p, n in dev_songs[:cut]]
        + [("val", p, n) for p, n in dev_songs[cut:]]
        + [("test", p, n) for p, n in test_songs]
    )


def _medleydb_entries(root: Path, spec: str) -> list[tuple[str, Path, str]]:
    audio = root / "Audio" if (root / "Audio").is_dir() else root
    folders = sorted((d for d in audio.iterdir() if d.is_dir() and not d.name.startswith(".")), key=lambda d: d.name)
    entries = []
    for d in folders:
        mix = d / f"{d.name}_MIX.wav"
        if not mix.is_file():
            raise AudioFileError(f"MedleyDB song folder {str(d)!r} has no {d.name}_MIX.wav")
        entries.append(("train", mix, d.name))
    if not entries:
        raise AudioenhError(
            f"{str(root)!r} does not look like MedleyDB (data spec {spec!r}): no Audio/<song>/<song>_MIX.wav"
        )
    return entries


def _builtin_root(spec: str, rest: str, cache_dir, progress: bool = True) -> Path:
    from ..spec import parse_spec
    from .builtin import ensure_builtin_corpus

    params = [
        p
        for p in inspect.signature(ensure_builtin_corpus).parameters.values()
        if p.name not in ("cache_dir", "progress")
    ]
    accepted = "builtin:" + ",".join(f"{p.name}={p.default}" for p in params)
    try:
        parsed = parse_spec("builtin:" + rest if rest else "builtin")
        bound = inspect.Signature(params).bind(*parsed.args, **parsed.kwargs)
    except (SpecError, TypeError) as exc:
        raise SpecError(f"bad data spec {spec!r}: {str(exc).rstrip('.')}; accepted: {accepted}") from None
    kwargs = dict(bound.arguments)
    for key, value in kwargs.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise SpecError(f"bad data spec {spec!r}: {key} must be a non-negative number; accepted: {accepted}")
    for key in ("songs", "seed"):
        if key in kwargs:
            if not float(kwargs[key]).is_integer():
                raise SpecError(f"bad data spec {spec!r}: {key} must be an integer")
            kwargs[key] = int(kwargs[key])
    try:
        return ensure_builtin_corpus(**kwargs, cache_dir=cache_dir, progress=progress)
    except ValueError as exc:
        raise SpecError(f"bad data spec {spec!r}: {exc}") from None


def _entries(spec: str, cache_dir, progress: bool = True) -> list[tuple[str, Path, str]]:
    text = spec.strip()
    prefix, sep, rest = text.partition(":")
    key = prefix.strip().lower()
    if key == "builtin":
        return _folder_entries(_builtin_root(text, rest.strip(), cache_dir, progress), text)
    if sep and key in ("folder", "dsd100", "medleydb"):
        root = _existing_folder(rest.strip(), text)
        return {"folder": _folder_entries, "dsd100": _dsd100_entries, "medleydb": _medleydb_entries}[key](root, text)
    if sep and len(prefix) > 1 and not Path(text).expanduser().exists() and re.fullmatch(r"[A-Za-z0-9_-]+", prefix):
        close = difflib.get_close_matches(key, _PREFIXES, n=1, cutoff=0.5)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise AudioenhError(
            f"unknown data spec prefix {prefix!r} in {text!r}; {hint}use builtin, dsd100:PATH, medleydb:PATH "
            "or a folder with train/, val/, test/"
        )
    if not Path(text).expanduser().exists():
        close = difflib.get_close_matches(key, _PREFIXES, n=1, cutoff=0.6)
        if close and not sep:
            raise AudioenhError(f"data folder {text!r} does not exist; did you mean {close[0]!r}?")
    return _folder_entries(_existing_folder(text, text), text)


def resolve_corpus(
    specs: Sequence[str] | str,
    *,
    cache_dir: str | os.PathLike | None = None,
    echo: Echo | None = None,
    require: Sequence[str] = (),
    progress: bool = True,
) -> Corpus:
    """Build the corpus described by data ``specs`` (combined in order).

    ``cache_dir`` (default ``$AUDIOENH_CACHE`` or ``~/.cache/audioenh``) holds the built-in corpus
    and resampled copies. ``echo`` receives progress lines (default: printed to stderr), e.g.
    ``resampling 3 songs from 48000 Hz to 44100 Hz with soxr``. ``require`` names splits that must
    not be empty (see :meth:`Corpus.require`). ``progress=False`` hides the progress bar of a first
    generation of the built-in corpus. Every file's header is read now, so unreadable,
    empty or >2-channel files fail here, naming the file.
    """
    if isinstance(specs, (str, os.PathLike)):
        specs = [str(specs)]
    specs = [str(s) for s in specs]
    if not specs:
        raise AudioenhError("no data spec given (use builtin, a folder, dsd100:PATH or medleydb:PATH)")
    corpus = Corpus(specs=tuple(specs))
    for spec in specs:
        for split, path, name in _entries(spec, cache_dir, progress):
            corpus.split(split).append(Song.from_file(path, split, name=name, cache_dir=cache_dir))
    prepare_songs(corpus.songs, echo)
    if require:
        corpus.require(*require)
    return corpus
