"""Corpora: the built-in procedurally generated corpus (:mod:`audioenh.data.builtin`) and, later, folder layouts."""

from ..cache import default_cache_dir
from .builtin import GENERATOR_VERSION, ensure_builtin_corpus, generate_song, write_corpus

__all__ = ["GENERATOR_VERSION", "default_cache_dir", "ensure_builtin_corpus", "generate_song", "write_corpus"]
