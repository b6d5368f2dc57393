"""The built-in corpus: deterministic, procedurally generated stereo music.

:func:`generate_song` renders one short piece of music from an integer seed. Everything about
the piece is drawn from ``numpy.random.default_rng(seed)`` (no global random state): tempo
(70-170 BPM), metre, key and scale, a chord progression, the instruments and their patterns,
panning and a stereo reverb. Instruments:

* drums: kick (swept sine and beater click), snare or clap (tone plus shaped noise), closed and
  open hi-hats and crash/ride cymbals (noise plus band-limited metallic square waves at
  inharmonic frequencies, high-passed), shaker, toms for fills;
* bass (sub sine, filtered saw or square, or plucked string);
* plucked strings (Karplus-Strong), keys and mallets/bells (decaying partials, harmonic or not);
* bowed strings (band-limited saw with delayed vibrato, body resonances and bow noise);
* bright synths: leads, arpeggios and pads from band-limited wavetables (saw, square, pulse)
  holding every harmonic up to just below Nyquist, with filter envelopes and detuned voices.

The corpus exists so that bandwidth-extension networks can be trained and tested without
downloading anything, so the spectrum above the 11025-Hz cutoff matters most: every song has
energy up to about 20 kHz (its long-term spectrum above 18 kHz lies within 60 dB of its peak)
and 0.3-3.5 % of its energy above 11025 Hz, like commercial music. A final gentle high shelf
(and, when a song lacks "air", a shelf above 16 kHz) keeps every song inside these bounds.

:func:`write_corpus` writes train/val/test FLAC files; :func:`ensure_builtin_corpus` caches one.

Modules, in dependency order:

* :mod:`.dsp`: oscillators, wavetables, envelopes, filters and small helpers (Hz, s, samples);
* :mod:`.context`: :class:`~.context.SongContext`, a song's random generator, timing, harmony,
  melodic material and mix bus;
* :mod:`.drums` and :mod:`.instruments`: the parts, each adding tracks to a song context;
* :mod:`.mastering`: the final EQ that keeps a song inside the corpus bounds;
* :mod:`.song`: arrangement, reverb, final mix and :func:`generate_song`;
* :mod:`.corpus`: song seeds, splits, :func:`write_corpus` and :func:`ensure_builtin_corpus`.

Any change to the samples a seed produces must bump :data:`GENERATOR_VERSION` (the corpus cache
is keyed by it); ``tests/test_builtin_golden.py`` pins the audio of each version.
"""

from ...cache import default_cache_dir
from .corpus import ensure_builtin_corpus, song_seed, split_counts, write_corpus
from .song import GENERATOR_VERSION, SAMPLE_RATE, generate_song

__all__ = [
    "GENERATOR_VERSION",
    "SAMPLE_RATE",
    "default_cache_dir",
    "ensure_builtin_corpus",
    "generate_song",
    "song_seed",
    "split_counts",
    "write_corpus",
]
