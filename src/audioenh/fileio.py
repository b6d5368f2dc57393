"""Atomic file writes and strict JSON: the one way audioenh puts files on disk.

Every writer goes through :func:`atomic_path`: the data is written to a uniquely named
temporary file (or folder) beside the target, flushed to disk (``fsync``), given the mode the
user's umask gives a new file, and renamed onto the target. A crash, an error or Ctrl-C leaves
either the old target or the new one, never a half-written file, and no temporary file behind.
Two writers of the same target never share a temporary name.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

TEMP_SUFFIX = ".part"


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync_path(path: Path, directory: bool = False) -> None:
    flags = os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0)
    try:
        fd = os.open(path, flags)
    except OSError:  # e.g. directories on platforms that cannot open them
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike, *, directory: bool = False, fsync: bool = True) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success it replaces ``target`` atomically.

    ``directory=True`` yields an empty temporary folder (``target``, when it exists, must be an
    empty folder). The caller writes through the path by any means (``open``, ``soundfile``,
    ``torch.save``, ``numpy``). The target's parent folder is created when missing. On success
    the file is fsynced, gets mode ``0o666 & ~umask`` (``0o777 & ~umask`` for folders) and is
    renamed onto ``target``; on any error (or interruption) the temporary path is removed and
    the error propagates.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    prefix = f".{target.name}."
    if directory:
        tmp = Path(tempfile.mkdtemp(prefix=prefix, suffix=TEMP_SUFFIX, dir=target.parent))
    else:
        fd, name = tempfile.mkstemp(prefix=prefix, suffix=TEMP_SUFFIX, dir=target.parent)
        os.close(fd)
        tmp = Path(name)
    try:
        yield tmp
        if not directory and fsync:
            _fsync_path(tmp)
        os.chmod(tmp, (0o777 if directory else 0o666) & ~_umask())
        if directory and target.is_dir():
            target.rmdir()  # only an empty folder may be replaced; a rename onto a folder is not portable
        os.replace(tmp, target)
        if fsync:
            _fsync_path(target.parent, directory=True)
    except BaseException:
        if directory:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_open(target: str | os.PathLike, mode: str = "w", **kwargs: Any) -> Iterator[IO[Any]]:
    """``open()`` on a temporary file that replaces ``target`` when the block ends without error."""
    if not any(m in mode for m in "wx"):
        raise ValueError(f"atomic_open writes a new file; mode {mode!r} does not")
    with atomic_path(target) as tmp, open(tmp, mode.replace("x", "w"), **kwargs) as f:
        yield f
        f.flush()


def write_text(target: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``target`` atomically."""
    with atomic_open(target, "w", encoding="utf-8") as f:
        f.write(text)


def write_bytes(target: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``target`` atomically."""
    with atomic_open(target, "wb") as f:
        f.write(data)


def jsonable(value: Any) -> Any:
    """``value`` with non-finite floats (NaN, ±inf, e.g. the SNR of identical signals) as ``None``,
    tuples as lists and paths as strings, so that it is strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return value


def dumps_json(value: Any, indent: int | None = 2) -> str:
    """Strict JSON text of ``value`` (see :func:`jsonable`); raises on anything JSON cannot hold."""
    return json.dumps(jsonable(value), indent=indent, allow_nan=False)


def write_json(target: str | os.PathLike, value: Any, indent: int | None = 2) -> None:
    """Write ``value`` as strict JSON (with a final newline) to ``target`` atomically."""
    write_text(target, dumps_json(value, indent) + "\n")
