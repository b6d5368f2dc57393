"""audioenh hooks: registers the ``mp3``, ``vorbis`` and ``opus`` degradations and the ``codec-chains``
set, and adds codec members to audioenh's generalization-matrix sets (``matrix`` and ``matrix-quick``)
and to its mixed training recipes (``recipe-mixed``, ``recipe-keep``)."""

from audioenh import hookimpl
from audioenh.hookspecs import Register

from .formats import MP3, Opus, Vorbis


@hookimpl
def register_degradations(register: Register) -> None:
    register("mp3", MP3)
    register("vorbis", Vorbis)
    register("opus", Opus)
    register.set("codec-chains", CODEC_CHAINS)
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

#: ``codec-chains``: lossy round trips of low-passed music, the commonest band-limited input in practice
#: and where a trusted network may amplify the codec's noise (audioenh's safe mode, the level limit):
#: steep low-passes of four families at 11025 and 16 kHz, a Chebyshev I at 8 kHz and a gentle
#: Butterworth at 13 kHz, each followed by MP3 at 192 kbit/s, Opus at 96 kbit/s and Vorbis at 0.5.
CODEC_CHAINS = tuple(
    f"{low_pass}+{codec}"
    for low_pass in (
        "cheby1:order=8",
        "butter:order=8",
        "cheby2:order=8",
        "ellip:order=8",
        "cheby1:order=8,cutoff=16000",
        "butter:order=8,cutoff=16000",
        "cheby2:order=8,cutoff=16000",
        "ellip:order=8,cutoff=16000",
        "cheby1:order=8,cutoff=8000",
        "butter:order=4,cutoff=13000",
    )
    for codec in ("mp3:192", "opus:96", "vorbis:quality=0.5")
)

#: Codec members of audioenh's training recipes that mix degradations (``recipe-mixed``, ``recipe-keep``).
RECIPE_MEMBERS = ("mp3:96", "mp3:160", "vorbis:quality=0.3", "opus:64")

#: The codec cells of the quick report's matrix: every codec once, MP3 twice, one chain.
MATRIX_QUICK_CELLS = ("mp3:64", "mp3:128", "vorbis:quality=0.3", "opus:64", "cheby1:order=8,cutoff=13000+mp3:192")
