"""audioenh hooks: registers the ``mp3``, ``vorbis`` and ``opus`` degradations and adds codec members
to audioenh's generalization-matrix sets (``matrix`` and ``matrix-quick``) and to its mixed training
recipes (``recipe-mixed``, ``recipe-keep``)."""

from audioenh import hookimpl
from audioenh.hookspecs import Register

from .formats import MP3, Opus, Vorbis


@hookimpl
def register_degradations(register: Register) -> None:
    register("mp3", MP3)
    register("vorbis", Vorbis)
    register("opus", Opus)
    register.extend("matrix", MATRIX_CELLS)
    register.extend("matrix-quick", MATRIX_QUICK_CELLS)
    for recipe in ("recipe-mixed", "recipe-keep"):
        register.extend(recipe, RECIPE_MEMBERS)


#: Codec cells of the full generalization matrix: each codec at low to transparent bit rates, and
#: chains of a low-pass or resampling before the encoder.
MATRIX_CELLS = (
    "mp3:64",
    "mp3:128",
    "mp3:192",
    "mp3:320",
    "vorbis:quality=0.1",
    "vorbis:quality=0.3",
    "vorbis:quality=0.6",
    "opus:32",
    "opus:64",
    "opus:128",
    "cheby1:order=8,cutoff=13000+mp3:192",
    "resample:32000+mp3:128",
)

#: Codec members of audioenh's training recipes that mix degradations (``recipe-mixed``, ``recipe-keep``).
RECIPE_MEMBERS = ("mp3:96", "mp3:160", "vorbis:quality=0.3", "opus:64")

#: The codec cells of the quick report's matrix: every codec once, MP3 twice, one chain.
MATRIX_QUICK_CELLS = ("mp3:64", "mp3:128", "vorbis:quality=0.3", "opus:64", "cheby1:order=8,cutoff=13000+mp3:192")
