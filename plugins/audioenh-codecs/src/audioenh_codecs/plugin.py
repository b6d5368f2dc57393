"""audioenh hooks: registers the ``mp3``, ``vorbis`` and ``opus`` degradations."""

from audioenh import hookimpl
from audioenh.hookspecs import Register

from .formats import MP3, Opus, Vorbis


@hookimpl
def register_degradations(register: Register) -> None:
    register("mp3", MP3)
    register("vorbis", Vorbis)
    register("opus", Opus)
