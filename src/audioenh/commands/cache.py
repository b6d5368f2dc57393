"""``audioenh cache``: what audioenh keeps in its cache folder, and clearing what it can make again."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import click

from ..cache import default_cache_dir
from ..data.degraded import BUDGET_ENV, cache_budget_bytes
from ..data.degraded import FOLDER as DEGRADED


@dataclass(frozen=True)
class Part:
    """One kind of thing in the cache: its name on the command line, the entries of the cache root it
    covers (glob patterns) and what it is."""

    name: str
    patterns: tuple[str, ...]
    what: str
    remade: bool = True  # audioenh makes it again when needed, offline
    note: Callable[[], str] | None = None  # said after ``what`` when shown (read when shown: a budget)


def _gb(n: int) -> str:
    return f"{n / 1e9:.2f} GB" if n >= 1e8 else f"{n / 1e6:.1f} MB"


def _degraded_budget() -> str:
    return f"kept within {_gb(cache_budget_bytes())} (${BUDGET_ENV})"


PARTS = (
    Part("corpus", ("builtin-*",), "built-in corpora, generated from their seed (about a minute each)"),
    Part("degraded", (DEGRADED,), "whole songs degraded once for training (docs/data.md)", note=_degraded_budget),
    Part("resampled", ("resampled",), "songs decoded or resampled to 44.1 kHz once"),
    Part("responses", ("responses",), "safe mode's training responses (docs/enhance.md)"),
    Part("weights", ("vggish.pth",), "downloaded VGGish weights (audioenh weights fetch vggish)", remade=False),
)


def entries(part: Part, root: Path) -> list[Path]:
    """The cache root's entries (files or folders) that belong to ``part``."""
    return sorted({p for pattern in part.patterns for p in root.glob(pattern)})


def size_of(path: Path) -> tuple[int, int]:
    """``(files, bytes)`` of a file or of everything below a folder (links not followed)."""
    if path.is_symlink() or path.is_file():
        return 1, path.lstat().st_size
    files = total = 0
    for child in path.rglob("*"):
        if child.is_symlink() or child.is_file():
            files, total = files + 1, total + child.lstat().st_size
    return files, total


def part_size(part: Part, root: Path) -> tuple[int, int]:
    """``(files, bytes)`` of everything in ``root`` that belongs to ``part``."""
    sizes = [size_of(entry) for entry in entries(part, root)]
    return sum(n for n, _ in sizes), sum(b for _, b in sizes)


@click.group("cache")
def cache():
    """Show what audioenh keeps in its cache folder ($AUDIOENH_CACHE, else ~/.cache/audioenh), and
    clear what it can make again."""


@cache.command("info")
def info():
    """Print the cache folder and the files and size of each part of it."""
    root = default_cache_dir()
    click.echo(f"cache folder: {root}{'' if root.is_dir() else ' (does not exist yet)'}")
    grand = 0
    for part in PARTS:
        files, total = part_size(part, root)
        grand += total
        what = part.what if part.note is None else f"{part.what}; {part.note()}"
        click.echo(f"  {part.name:<10} {files:>6} files {_gb(total):>10}  {what}")
    click.echo(f"  {'total':<10} {'':>12} {_gb(grand):>10}")


@cache.command("clear")
@click.argument("names", nargs=-1, type=click.Choice([p.name for p in PARTS]))
@click.option("--all", "everything", is_flag=True, help="Every part audioenh makes again offline (not 'weights').")
def clear(names: tuple[str, ...], everything: bool):
    """Delete the parts NAMES of the cache (see 'audioenh cache info'); audioenh remakes them when
    needed, except 'weights', which must be downloaded again and is cleared only by name."""
    if not names and not everything:
        raise click.UsageError(f"name what to clear ({', '.join(p.name for p in PARTS)}) or give --all")
    chosen = [p for p in PARTS if p.name in names or (everything and p.remade)]
    root = default_cache_dir()
    for part in chosen:
        files, total = part_size(part, root)
        for entry in entries(part, root):
            try:
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry)
                else:
                    entry.unlink()
            except OSError as exc:
                raise click.ClickException(f"cannot delete {entry}: {exc.strerror or exc}") from None
        click.echo(f"cleared {part.name}: {files} files, {_gb(total)}")
