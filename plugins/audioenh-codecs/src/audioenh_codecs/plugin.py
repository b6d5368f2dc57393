"""audioenh hooks: registers the ``mp3``, ``vorbis`` and ``opus`` degradations."""

from audioenh.hookspecs import hookimpl

from .formats import MP3, Opus, Vorbis


@hookimpl
def register_degradations(register):
    register("mp3", MP3)
    register("vorbis", Vorbis)
    register("opus", Opus)
