"""Corpora: the built-in procedurally generated corpus (:mod:`audioenh.data.builtin`) and, later, folder layouts."""

__all__ = ["GENERATOR_VERSION", "default_cache_dir", "ensure_builtin_corpus", "generate_song", "write_corpus"]


def __getattr__(name: str):
    # imported on first use: the song generator needs SciPy's signal module, which the cache command,
    # the degraded-song cache and the corpus readers do not (`audioenh cache --help` stays fast)
    if name == "default_cache_dir":
        from ..cache import default_cache_dir

        return default_cache_dir
    if name in __all__:
        from . import builtin

        return getattr(builtin, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
