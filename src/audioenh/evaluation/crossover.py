"""Do no harm: the network may only add what the input lacks, and only where it was trained to.

In ``enhance``'s default (``safe``) mode the output is ``input + B(g * L(H(network(input) - input)))``:

- ``H`` is a linear-phase (zero-phase, symmetric FIR) high-pass around the input's band edge. The
  band edge (:mod:`audioenh.analysis.bandwidth`) is the centre of the band's final drop, so the
  band the input lacks starts below it: ``H`` passes everything above where the matched training
  degradation (below) attenuates by more than :data:`INTACT_DB` when that is a fixed, steep filter
  (attenuating from at most 1.5 kHz below the edge; otherwise, or with no match, ``edge - 300 Hz``)
  and stops (90 dB) everything a 600-Hz transition lower, where the output is the input itself.
- ``g`` is how far the network is trusted (:func:`plan_restoration`): only as far as the input's
  band limit looks like one it was trained on. Each training degradation's magnitude response is
  measured once on white noise (ranges: their extremes and a few draws, each response moved
  towards the input's edge within the edges its draws span). Under the hypothesis that the input
  was made by one of them, its long-term spectrum around the edge is the music's own trend (a line
  in dB fitted below the edge, rising at most :data:`MAX_TREND_DB_PER_KHZ`, the
  response taken out) plus that response, never below the recording's floor;
  :func:`shape_mismatch_db` is the RMS difference (dB) from the input's spectrum over the
  transition, wherever either stands above that floor. ``g`` is 1 when the best match is within
  :data:`MATCH_DB` dB, falling linearly to 0 at :data:`MISMATCH_DB`. Networks damage inputs
  band-limited in any other way, even with the same edge (a model trained on ``cheby1:6`` loses
  3-6 dB on ``cheby2:6`` or ``ellip:6`` above the edge): there the input is returned. Gentle
  training responses (Bessel, attenuating over more than :data:`GENTLE_SPAN_HZ` below their edge)
  are not compared at all: their slope cannot be told from the music's own. A model validated at
  the end of its training (:mod:`audioenh.evaluation.response_validation`) is matched only to the
  responses it was measured to restore on its validation songs, each moved only as far as it was.

- ``L`` is the level limit (:meth:`Restoration.level_limited`, a zero-phase FIR measured from the network's
  answer to the input or an excerpt of it): where the matched training response attenuates, the
  network amplifies whatever the input holds there by as much, a codec's
  noise as well as the music. There its contribution is held to the music's own level (a line
  fitted to the top 3 kHz of the band where the input is intact, followed to the edge, level beyond,
  raised by how far the music strays above that line there)
  and dropped where the input holds more than :data:`NOISE_EXCESS_DB` (20 dB for a response moved
  from a range) above what that filter would have left of the music (noise). An Opus round
  trip of a Butterworth 8 input kept the filter's shape, was trusted, and lost 6 dB without it.
- ``B`` is the burst limit (:mod:`audioenh.evaluation.transients`): the contribution held, moment by
  moment, within a margin of its usual ratio to the input's band just below the edge.

When the band edge is at (or within the transition of) the Nyquist frequency there is nothing to
restore, and the input is returned unchanged.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
from scipy import ndimage, signal

from . import transients

TRANSITION_HZ = 600.0  # width of the crossover's transition band (Hz)
BELOW_EDGE_HZ = 300.0  # the crossover passes everything above edge - this (Hz)
STOPBAND_DB = 90.0  # attenuation of the network's contribution below edge - BELOW_EDGE_HZ - TRANSITION_HZ (dB)
#: changes whenever safe mode's decisions change, so that cached safe-mode scores are recomputed
SAFE_MODE_RULE = "shape-match-10+level-limit-3+validated-responses+self-test-pitch-2500+burst-limit-15+fixed-trust-4-5"
#: full trust when the input's band limit matches a training filter of a fixed band edge within this (dB
#: RMS); 3 dB, with no trust from 4 dB, until the self-test and the burst limit guarded what trust lets
#: through (docs/results.md, "A wider shape match")
MATCH_DB = 4.0
MISMATCH_DB = 5.0  # no trust from this mismatch on (dB RMS)
#: the same for a response moved from a range of band edges, which approximates the shape it matches:
#: wider, a gentle generalist was trusted more on lossy copies of gentle low-passes and lost there
MOVED_MATCH_DB = 3.0
MOVED_MISMATCH_DB = 4.0
EDGE_RANGE_HZ = 1500.0  # a training response is compared when its edge lies this close to the input's (Hz)
MOVED_EDGE_RANGE_HZ = 400.0  # ... a range's response, moved to the end of its span, this close (Hz)
TREND_HZ = (4000.0, 1000.0)  # the music's trend is fitted from edge - 4 kHz to edge - 1 kHz
TRANSITION_SPAN_HZ = (-4000.0, 1500.0)  # the shapes are compared from edge - 4 kHz to edge + 1.5 kHz
ABOVE_FLOOR_DB = 10.0  # ... where the predicted spectrum lies this far above the input's floor (dB)
FLOOR_PERCENTILE = 10.0  # the input's floor: this percentile of its levels 1.5 kHz above the edges
#: the trend may rise at most this fast towards the edge (dB per kHz): the spectra of music fall or stay
#: level there, and a gentle training response (Bessel) fits a flatter input only with a rising trend
MAX_TREND_DB_PER_KHZ = 2.0
RANGE_DRAWS = 8  # random draws per training spec with ranges, besides its extremes
PROBE_SECONDS = 4.0  # white noise the training responses are measured on (s)
INTACT_DB = 0.5  # a matched training response attenuates less than this: the input is intact there (dB)
#: the crossover starts where a matched training filter attenuates only if that is within this distance
#: below the edge (Hz): gentle responses (Bessel) attenuate from a few kHz on, where a network trained on
#: other cut-offs does harm (a recipe model lost 7-15 dB on a 16-kHz Chebyshev matched to its Bessels)
MAX_BELOW_EDGE_HZ = 1500.0
#: a training response that attenuates over more than this below its edge (Hz) is *gentle* (Bessel:
#: 11-12 kHz) and never used as evidence: its slope cannot be told from music's own high-frequency
#: decline, so inputs low-passed at other cut-offs or by other families match it within 3 dB (the
#: bundled model lost up to 3 dB on 13-kHz Bessel and 16-kHz Butterworth inputs matched to its Bessels)
GENTLE_SPAN_HZ = 5000.0

# The level limit (:meth:`Restoration.level_limited`): where the matched training response attenuates, the
# network amplifies whatever the input holds there by as much, a codec's noise or dither as well as the
# music (an Opus-coded Butterworth 8 input came back 6 dB worse). There its contribution is held to the
# music's own level and dropped where the input holds more than the matched filter would have left of
# that level (noise). Chosen on the validation split (docs/enhance.md, the level limit).
LIMIT_FROM_DB = 0.0  # the limit applies where the matched response attenuates by more than this (dB) ...
LIMIT_FADE_DB = 6.0  # ... fully from this much more attenuation on (dB)
LIMIT_MARGIN_DB = 0.0  # the contribution may exceed the music's level by this (dB)
LIMIT_FIT_SPAN_HZ = 3000.0  # the music's level: a line fitted over this much of the intact band (Hz) ...
LIMIT_SPREAD_PERCENTILE = 90.0  # ... raised by this percentile of the music's excursions above it there
NOISE_EXCESS_DB = 6.0  # input this far above what the matched filter leaves of the music: noise (dB) ...
#: ... this far for a response moved from a range of cut-offs, whose depth far below the edge is no guide
#: to the input's (a gentle generalist's: at 10 dB its test dropped restored music, Butterworth 4 -0.8 dB)
MOVED_NOISE_EXCESS_DB = 20.0
NOISE_FADE_DB = 6.0  # ... the contribution fading out over this much more (dB)
LIMIT_BELOW_EDGE_HZ = 1000.0  # the limit applies from this far below the band edge (Hz)
LIMIT_SMOOTH_HZ = 220.0  # the gains are smoothed over this width (Hz)
LIMIT_SECONDS = 20.0  # enhance measures the limit on this much of a file's analysis excerpts (s)
LIMITER_TAPS = 255  # length of the symmetric FIR that applies the gains (samples)


def crossover_length(sample_rate: int) -> tuple[int, float]:
    """The crossover's length (taps, odd) and Kaiser window ``beta``: fixed per rate (Hz)."""
    numtaps, beta = signal.kaiserord(STOPBAND_DB, TRANSITION_HZ / (sample_rate / 2))
    return numtaps | 1, beta  # odd: a type-I linear-phase high-pass


def crossover_reach(sample_rate: int) -> int:
    """How far (samples) the crossover reaches either side of a sample: half its length, fixed per rate."""
    return crossover_length(sample_rate)[0] // 2


def nothing_to_restore(edge_hz: float, sample_rate: int) -> bool:
    """True when the band reaches (within the crossover's transition) the Nyquist frequency."""
    return edge_hz + TRANSITION_HZ >= sample_rate / 2


def restoration_filter(edge_hz: float, sample_rate: int, pass_from_hz: float | None = None) -> np.ndarray | None:
    """The symmetric FIR high-pass (odd length) that passes everything above ``pass_from_hz`` (default
    ``edge_hz`` - :data:`BELOW_EDGE_HZ`) and stops ≥ :data:`STOPBAND_DB` below that minus the
    transition; ``None`` when there is nothing to restore. Its length depends on the rate only."""
    if nothing_to_restore(edge_hz, sample_rate):
        return None
    numtaps, beta = crossover_length(sample_rate)
    pass_from = edge_hz - BELOW_EDGE_HZ if pass_from_hz is None else min(pass_from_hz, edge_hz - BELOW_EDGE_HZ)
    cutoff = max(pass_from, TRANSITION_HZ) - TRANSITION_HZ / 2
    return signal.firwin(numtaps, cutoff, window=("kaiser", beta), pass_zero=False, fs=sample_rate)


@dataclass(frozen=True)
class TrainingResponse:
    """One (concrete) training degradation as measured on white noise: its magnitude response (dB, on
    :func:`~audioenh.analysis.bandwidth.long_term_spectrum`'s frequencies) and its band edge (Hz);
    ``edge_range_hz``: the edges its training spec spans (a range's draws; else just ``edge_hz``),
    within which it may be moved to the input's edge."""

    spec: str
    freqs: np.ndarray
    response_db: np.ndarray
    edge_hz: float
    edge_range_hz: tuple[float, float]
    #: the part of ``edge_range_hz`` where the trained network was validated to gain
    #: (:mod:`audioenh.evaluation.response_validation`); ``None``: not validated, the whole range
    validated_range_hz: tuple[float, float] | None = None

    @property
    def movable(self) -> bool:
        """Drawn from a range (its spec spans several edges): it may be moved towards the input's edge."""
        return self.edge_range_hz[0] != self.edge_range_hz[1]

    @property
    def gentle(self) -> bool:
        """Attenuating over more than :data:`GENTLE_SPAN_HZ` below its edge: not used to match inputs."""
        return self.edge_hz - attenuation_start_hz(self) > GENTLE_SPAN_HZ


#: ranged parameters that move a degradation's band edge: a draw may be moved within the edges it takes
#: when only these change (its own shape at the range's other cut-offs)
EDGE_PARAMETERS = ("cutoff", "rate")


def _edge_variants(draw: str, ranged: list) -> list[str]:
    """``draw`` (a concrete chain text) with each :data:`EDGE_PARAMETERS` value of its members set to both
    ends of the range the training spec (``ranged``, its parsed members) draws it from."""
    return [steps[-1] for steps in edge_steps(draw, ranged, (1.0,))]


def edge_steps(draw: str, ranged: list, fractions: tuple[float, ...]) -> list[list[str]]:
    """For each :data:`EDGE_PARAMETERS` value of ``draw``'s members that the training spec (``ranged``, its
    parsed members) draws from a range, and each end of that range: ``draw`` with the value moved that
    ``fractions`` of the way to the end (outwards, e.g. ``(0.5, 1.0)``; integers where the range's are)."""
    from ..spec import Range, Spec, format_chain, parse_chain

    members = parse_chain(draw)
    sides = []
    for i, original in enumerate(ranged):
        for name in EDGE_PARAMETERS:
            value = original.kwargs.get(name)
            if not isinstance(value, Range):
                continue
            current = members[i].kwargs[name]
            for end in (value.low, value.high):
                steps = []
                for fraction in fractions:
                    moved = end if fraction == 1.0 else current + fraction * (end - current)
                    moved = int(round(moved)) if value.integer else moved
                    changed = list(members)
                    changed[i] = Spec(members[i].name, members[i].args, {**members[i].kwargs, name: moved})
                    steps.append(format_chain(changed))
                sides.append(steps)
    return sides


@functools.lru_cache(maxsize=64)
def training_responses(specs: tuple[str, ...], sample_rate: int) -> tuple[TrainingResponse, ...]:
    """The responses of training degradations ``specs`` (chains; ranges: extremes and
    :data:`RANGE_DRAWS` draws), measured on :data:`PROBE_SECONDS` of white noise. A draw's
    ``edge_range_hz`` spans the edges of its own shape with its cut-off (or rate) at either end of
    the training range: a steep draw is not moved to an edge only a gentle shape of that range reaches.
    Kept on disk between processes (:mod:`audioenh.evaluation.response_cache`)."""
    from . import response_cache

    path = response_cache.entry_path(specs, sample_rate, {"probe_s": PROBE_SECONDS, "draws": RANGE_DRAWS})
    cached = response_cache.load(path, TrainingResponse)
    if cached is not None:
        return cached
    responses = measure_training_responses(specs, sample_rate)
    response_cache.store(path, responses)
    return responses


def measure_training_responses(specs: tuple[str, ...], sample_rate: int) -> tuple[TrainingResponse, ...]:
    """:func:`training_responses`, measured now."""
    from ..analysis.bandwidth import band_edge, long_term_spectrum

    noise = probe_noise(sample_rate)
    freqs, noise_db = long_term_spectrum(noise.mean(axis=0), sample_rate)

    out = []
    for sampler, text, variants in training_draws(specs, sample_rate):
        degraded = sampler.build(text)(noise, sample_rate, np.random.default_rng(0)).mean(axis=0)
        _, level = long_term_spectrum(degraded, sample_rate)
        edge = band_edge(degraded, sample_rate)
        # the variants' edges only: their spectra are not needed
        edges = [edge, *(probe_edge_hz(sampler, v, sample_rate) for v in variants)]
        out.append(TrainingResponse(text, freqs, level - noise_db, edge, (min(edges), max(edges))))
    return tuple(out)


def training_draws(specs: tuple[str, ...], sample_rate: int):
    """``(sampler, concrete text, edge variants)`` of every training response :func:`training_responses`
    measures, in its order: each spec itself, or a range's extremes and :data:`RANGE_DRAWS` draws, with
    the draw's :data:`EDGE_PARAMETERS` set to either end of its range (:func:`_edge_variants`)."""
    from ..degradations.chain import DegradationSampler, resolve_degradations

    for resolved in resolve_degradations(list(specs), sample_rate):
        sampler = DegradationSampler(resolved.canonical, sample_rate)
        concrete = [resolved.canonical]
        if sampler.random:
            rng = np.random.default_rng(0)
            concrete = list(dict.fromkeys([*sampler.extremes(), *(sampler.draw(rng) for _ in range(RANGE_DRAWS))]))
        for text in concrete:
            yield sampler, text, _edge_variants(text, sampler.specs)


def probe_noise(sample_rate: int) -> np.ndarray:
    """The white noise (2 channels, :data:`PROBE_SECONDS`) training responses are measured on (a copy)."""
    return _probe_noise(sample_rate).copy()


@functools.lru_cache(maxsize=4)
def _probe_noise(sample_rate: int) -> np.ndarray:
    return np.random.default_rng(0).standard_normal((2, int(PROBE_SECONDS * sample_rate))) * 0.1


def probe_edge_hz(sampler, text: str, sample_rate: int) -> float:
    """The band edge (Hz) of :data:`PROBE_SECONDS` of white noise degraded by the concrete ``text``."""
    from ..analysis.bandwidth import band_edge

    noise = probe_noise(sample_rate)
    return band_edge(sampler.build(text)(noise, sample_rate, np.random.default_rng(0)).mean(axis=0), sample_rate)


def response_shift_hz(edge_hz: float, response: TrainingResponse) -> float:
    """How far ``response`` is moved towards the input's edge: within the edges its spec spans (Hz), or
    the part of them where the network was validated to gain."""
    return float(np.clip(edge_hz, *(response.validated_range_hz or response.edge_range_hz))) - response.edge_hz


def attenuation_start_hz(response: TrainingResponse) -> float:
    """The lowest frequency (Hz) from which ``response`` stays more than :data:`INTACT_DB` below 0 dB
    up to its edge: below it, an input it made is intact."""
    below = (response.freqs < response.edge_hz) & (response.response_db > -INTACT_DB)
    return float(response.freqs[below][-1]) if below.any() else float(response.freqs[0])


def shape_mismatch_db(freqs: np.ndarray, level_db: np.ndarray, edge_hz: float, response: TrainingResponse) -> float:
    """How far (RMS dB) the input's long-term spectrum ``level_db`` around its edge ``edge_hz`` is from
    a line fitted below the edge plus ``response`` (moved towards the input's edge, within the edges
    its training spec spans); ``inf`` when the edges are too far apart to compare."""
    shift = response_shift_hz(edge_hz, response)
    if abs(edge_hz - response.edge_hz - shift) > (MOVED_EDGE_RANGE_HZ if response.movable else EDGE_RANGE_HZ):
        return float("inf")
    response_db = np.interp(freqs - shift, freqs, response.response_db)
    edge = response.edge_hz + shift
    clean_db = level_db - response_db  # the music's own spectrum if this response made the input
    fit = (freqs >= max(1000.0, edge - TREND_HZ[0])) & (freqs <= edge - TREND_HZ[1]) & (response_db > -20.0)
    if fit.sum() < 8:
        return float("inf")
    line = np.polyfit(freqs[fit], clean_db[fit], 1)
    if line[0] * 1000 > MAX_TREND_DB_PER_KHZ:  # music that would have to rise that fast: not this response
        return float("inf")
    trend = np.polyval(line, freqs)
    predicted = trend + response_db
    above = freqs > max(edge_hz, edge) + 1500.0
    # the recording's own floor (noise, dither): the lowest levels above the band; nothing is predicted
    # below it
    floor = float(np.percentile(level_db[above], FLOOR_PERCENTILE)) if above.any() else float(level_db.min())
    predicted = np.maximum(predicted, floor)
    span = (freqs >= edge + TRANSITION_SPAN_HZ[0]) & (freqs <= edge + TRANSITION_SPAN_HZ[1])
    # where either the prediction or the input stands above the floor: an input whose band goes on where
    # the response says there is nothing does not match
    region = span & (np.maximum(predicted, level_db) > floor + ABOVE_FLOOR_DB)
    if region.sum() < 8:
        return float("inf")
    return float(np.sqrt(np.mean((level_db[region] - predicted[region]) ** 2)))


def trust_from_mismatch(mismatch_db: float, moved: bool = False) -> float:
    """1 within :data:`MATCH_DB`, 0 from :data:`MISMATCH_DB` on, linear between; for a response ``moved``
    from a range of band edges, :data:`MOVED_MATCH_DB` and :data:`MOVED_MISMATCH_DB`."""
    if not np.isfinite(mismatch_db):
        return 0.0
    full, none = (MOVED_MATCH_DB, MOVED_MISMATCH_DB) if moved else (MATCH_DB, MISMATCH_DB)
    return float(np.clip((none - mismatch_db) / (none - full), 0.0, 1.0))


def best_match(
    audio: np.ndarray, sample_rate: int, edge_hz: float, responses: tuple[TrainingResponse, ...]
) -> tuple[float, TrainingResponse | None]:
    """The smallest :func:`shape_mismatch_db` of the input (mono mix of ``audio``) over ``responses``,
    and the response that gave it (``None`` when none compares)."""
    from ..analysis.bandwidth import long_term_spectrum

    mono = np.atleast_2d(np.asarray(audio, dtype=np.float64)).mean(axis=0)
    freqs, level = long_term_spectrum(mono, sample_rate)
    best, matched = float("inf"), None
    for response in responses:
        if len(response.freqs) != len(freqs):
            continue
        mismatch = shape_mismatch_db(freqs, level, edge_hz, response)
        if mismatch < best:
            best, matched = mismatch, response
    return best, matched


def keep_below_edge(inputs: np.ndarray, outputs: np.ndarray, taps: np.ndarray | None, gain: float = 1.0) -> np.ndarray:
    """``inputs + gain * taps * (outputs - inputs)`` along the last axis, zero-phase ('same'
    convolution); ``inputs`` when ``taps`` is None or ``gain`` is 0. The first and last
    ``len(taps) // 2`` samples see the block's edges."""
    if taps is None or gain <= 0:
        return np.asarray(inputs, dtype=np.float32)
    kernel = taps.reshape((1,) * (np.ndim(outputs) - 1) + (-1,))
    # overlap-add: the taps (hundreds) are far shorter than the audio, so blocks of a few taps' length
    # beat one FFT of the whole signal (1.4-1.8x for 4 s of stereo on 2 cores); equal to rounding
    correction = gain * signal.oaconvolve(outputs - inputs, kernel, mode="same", axes=-1)
    return (inputs + correction).astype(np.float32)


def contribution_gains(
    freqs: np.ndarray,
    input_db: np.ndarray,
    contribution_db: np.ndarray,
    edge_hz: float,
    response_db: np.ndarray,
    drop_noise: bool = True,
) -> np.ndarray:
    """The level limit's gain (0-1) on the network's contribution at each of ``freqs`` (Hz), from the
    long-term spectra (dB) of the input and of the contribution, the band edge (Hz) and the matched
    training response (dB, moved to the edge; zeros when none). 1 below ``edge_hz -``
    :data:`LIMIT_BELOW_EDGE_HZ` and wherever the response does not attenuate (by :data:`LIMIT_FROM_DB`);
    ``drop_noise``: the noise test at :data:`NOISE_EXCESS_DB` (else :data:`MOVED_NOISE_EXCESS_DB`)."""
    gains = np.ones_like(freqs, dtype=np.float64)
    # the music's level: a line fitted to the top LIMIT_FIT_SPAN_HZ of the band where the input is still
    # intact, followed to the edge (falling or level) and level from there on
    intact = (freqs >= 1000.0) & (freqs <= edge_hz - LIMIT_BELOW_EDGE_HZ) & (response_db > -INTACT_DB)
    if not intact.any():
        return gains
    fit = intact & (freqs >= freqs[intact].max() - LIMIT_FIT_SPAN_HZ)
    if fit.sum() < 8:
        return gains
    music_db = (input_db - response_db)[fit]
    line = np.polyfit(freqs[fit], music_db, 1)
    top = freqs[fit].max()
    # from the line's level at the top of the fitted span, falling as it falls (never rising)
    trend = np.polyval(line, top) + min(line[0], 0.0) * (np.minimum(freqs, edge_hz) - top)
    # plus how far the music strays above its line there: real mixes are bumpier than the built-in
    # songs (a jazz song 5 dB above its line at 12-13 kHz kept 4.52 of 6.81 dB without this)
    spread = float(np.percentile(music_db - np.polyval(line, freqs[fit]), LIMIT_SPREAD_PERCENTILE))
    trend = trend + max(0.0, spread)
    held = np.minimum(1.0, 10 ** ((trend + LIMIT_MARGIN_DB - contribution_db) / 20))
    excess = input_db - (trend + response_db)  # more than the filter leaves of the music: noise
    threshold = NOISE_EXCESS_DB if drop_noise else MOVED_NOISE_EXCESS_DB
    held *= np.clip((threshold + NOISE_FADE_DB - excess) / NOISE_FADE_DB, 0.0, 1.0)
    attenuated = np.clip((-response_db - LIMIT_FROM_DB) / LIMIT_FADE_DB, 0.0, 1.0)
    gains = 1.0 - attenuated * (1.0 - held)
    gains[freqs < edge_hz - LIMIT_BELOW_EDGE_HZ] = 1.0
    width = max(1, int(round(LIMIT_SMOOTH_HZ / (freqs[1] - freqs[0]))))
    gains = ndimage.uniform_filter1d(gains, width, mode="nearest")
    gains[freqs < edge_hz - LIMIT_BELOW_EDGE_HZ] = 1.0
    return np.clip(gains, 0.0, 1.0)


def limiter_taps(freqs: np.ndarray, gains: np.ndarray, sample_rate: int) -> np.ndarray | None:
    """The symmetric FIR (:data:`LIMITER_TAPS`) with magnitude ``gains`` at ``freqs`` (Hz); ``None`` when
    every gain is (within 0.1 %) 1."""
    if np.all(gains >= 0.999):
        return None
    grid = np.concatenate([freqs, [sample_rate / 2]]) if freqs[-1] < sample_rate / 2 else freqs
    values = np.concatenate([gains, [gains[-1]]]) if len(grid) > len(freqs) else gains
    return signal.firwin2(LIMITER_TAPS, grid, values, fs=sample_rate)


@dataclass(frozen=True)
class Restoration:
    """What safe mode does with one input: its band edge (Hz), the crossover taps (``None``: nothing to
    restore), how far the network is trusted (0-1), the range of its training edges (Hz), the best
    match of the input's band limit to a training one (RMS dB, and that degradation), and whether that
    degradation was trained at a fixed band edge (``False``: drawn from a range of cut-offs or rates)."""

    edge_hz: float
    taps: np.ndarray | None
    gain: float
    trained: tuple[float, float] | None
    mismatch_db: float | None = None
    matched: str | None = None
    validated_gain_db: float | None = None
    fixed_match: bool = False
    #: how many training responses the model was validated to restore (``None``: not validated)
    validated_responses: int | None = None
    #: the matched training response (for :meth:`limited`)
    response: TrainingResponse | None = field(default=None, compare=False, repr=False)
    #: the level limit's largest cut (dB; ``None``: not applied yet, 0: nothing cut)
    limit_db: float | None = None
    #: the self-test's gain (dB; ``None``: not run; :mod:`audioenh.evaluation.self_test`)
    self_test_db: float | None = None
    #: the burst limit's reference: the contribution's usual level relative to the input's band just below
    #: the edge (dB; ``None``: not measured; :mod:`audioenh.evaluation.transients`)
    burst_reference_db: float | None = None

    @classmethod
    def matched_at(cls, edge_hz: float, sample_rate: int, response: TrainingResponse) -> Restoration | None:
        """The plan for an input whose band ends at ``edge_hz`` (Hz) and is taken to be band-limited by
        ``response`` (moved there as safe mode moves it), fully trusted: what response validation and
        the self-test restore with; ``None`` when there is nothing to restore at that edge."""
        taps = matched_filter(edge_hz, sample_rate, response)
        if taps is None:
            return None
        return cls(edge_hz, taps, 1.0, None, response=response, fixed_match=not response.movable)

    @property
    def skip(self) -> bool:
        """True when the network is not run at all: nothing to restore, or not trusted here."""
        return self.taps is None or self.gain <= 0

    @staticmethod
    def unplanned_info(edge_hz: float | None) -> dict:
        """:meth:`info`'s keys for an input safe mode did not plan (raw mode): all ``None`` but the edge."""
        return dict.fromkeys(Restoration(0.0, None, 0.0, None).info(), None) | {"edge_hz": edge_hz}

    def info(self) -> dict:
        trained = None if self.trained is None else [float(v) for v in self.trained]
        mismatch = None if self.mismatch_db is None or not np.isfinite(self.mismatch_db) else self.mismatch_db
        return {
            "edge_hz": float(self.edge_hz),
            "trust": self.gain,
            "trained_edges_hz": trained,
            "mismatch_db": mismatch,
            "matched": self.matched,
            "validated_gain_db": self.validated_gain_db,
            "fixed_match": self.fixed_match,
            "validated_responses": self.validated_responses,
            "limit_db": self.limit_db,
            "self_test_db": None if self.self_test_db is None else float(self.self_test_db),
            "burst_reference_db": None if self.burst_reference_db is None else float(self.burst_reference_db),
        }

    def apply(self, inputs: np.ndarray, outputs: np.ndarray, sample_rate: int) -> tuple[np.ndarray, Restoration]:
        """Safe mode's output (float32) for ``inputs`` from the network's answer ``outputs`` to them (at
        ``sample_rate``): the level limit folded in (:meth:`limited`), then the crossover and the burst
        limit (:mod:`audioenh.evaluation.transients`); with the plan as applied. A plan that skips the
        network returns ``inputs``."""
        if self.skip or self.limit_db is not None:  # limited already (its burst reference measured)
            plan, added = self, None
        else:  # limit it here, measuring the burst reference on the contribution it then adds
            plan = self.level_limited(inputs, outputs, sample_rate)
            added = plan.crossed_over(inputs, outputs)
            plan = replace(plan, burst_reference_db=transients.reference_db(inputs, added, plan.edge_hz, sample_rate))
        inputs = np.asarray(inputs, dtype=np.float32)
        if plan.skip or plan.burst_reference_db is None:
            return keep_below_edge(inputs, outputs, plan.taps, plan.gain), plan
        added = plan.crossed_over(inputs, outputs) if added is None else added
        return inputs + transients.limited(inputs, added, plan.edge_hz, sample_rate, plan.burst_reference_db), plan

    def crossed_over(self, inputs: np.ndarray, outputs: np.ndarray) -> np.ndarray:
        """The network's contribution (``outputs`` − ``inputs``, float32) through this plan's crossover and
        trust, before the burst limit."""
        inputs = np.asarray(inputs, dtype=np.float32)
        return keep_below_edge(np.zeros_like(inputs), outputs - inputs, self.taps, self.gain)

    def contribution(
        self,
        inputs: np.ndarray,
        outputs: np.ndarray,
        sample_rate: int,
        on_cut: Callable[[np.ndarray], None] | None = None,
    ) -> np.ndarray:
        """What this (limited) plan adds to ``inputs`` (float32, channels × samples at ``sample_rate``, or a
        batch of such blocks) from the network's answer ``outputs``: the crossover with the trust, then
        the burst limit (``on_cut`` receives its gains where it cut: :class:`transients.BurstTally`)."""
        added = self.crossed_over(inputs, outputs)
        return transients.limited(inputs, added, self.edge_hz, sample_rate, self.burst_reference_db, on_cut)

    def limited(self, inputs: np.ndarray, outputs: np.ndarray, sample_rate: int) -> Restoration:
        """This plan with the level limit folded into its crossover (:meth:`level_limited`) and the burst
        limit's reference measured (:meth:`with_burst_reference`), from the network's answer ``outputs``
        to ``inputs`` (channels, samples, at the model's rate ``sample_rate``; an excerpt will do). A plan
        that skips the network, or is limited already, is returned as it is."""
        if self.skip or self.limit_db is not None:
            return self
        return self.level_limited(inputs, outputs, sample_rate).with_burst_reference(inputs, outputs, sample_rate)

    def level_limited(self, inputs: np.ndarray, outputs: np.ndarray, sample_rate: int) -> Restoration:
        """This plan with the level limit folded into its crossover (module constants from
        :data:`LIMIT_FROM_DB`), its burst reference not measured: ``outputs`` is the network's answer
        to ``inputs``."""
        if self.skip or self.limit_db is not None:
            return self
        from ..analysis.bandwidth import long_term_spectrum

        inputs = np.atleast_2d(np.asarray(inputs, dtype=np.float64))
        # the crossover is linear, so the mono mix of the contribution is the crossover of the mix's
        difference = (np.atleast_2d(outputs) - inputs).mean(axis=0, keepdims=True)
        contribution = keep_below_edge(np.zeros_like(difference), difference, self.taps, self.gain)
        freqs, input_db = long_term_spectrum(inputs.mean(axis=0), sample_rate)
        _, contribution_db = long_term_spectrum(contribution[0], sample_rate)
        response_db = np.zeros_like(freqs)
        if self.response is not None:
            shift = response_shift_hz(self.edge_hz, self.response)
            response_db = np.interp(freqs - shift, self.response.freqs, self.response.response_db)
        # a response moved from a range of cut-offs (a gentle generalist's) is no guide to how deep the
        # filter went: its noise test dropped restored music (a Butterworth 4 input lost 0.8 dB)
        gains = contribution_gains(freqs, input_db, contribution_db, self.edge_hz, response_db, self.fixed_match)
        limiter = limiter_taps(freqs, gains, sample_rate)
        if limiter is None:
            return replace(self, limit_db=0.0)
        cut = float(-20 * np.log10(max(float(gains.min()), 1e-5)))
        return replace(self, taps=np.convolve(self.taps, limiter), limit_db=cut)

    def with_burst_reference(self, inputs: np.ndarray, outputs: np.ndarray, sample_rate: int) -> Restoration:
        """This plan with the burst limit's reference measured on ``inputs`` and the network's answer
        ``outputs`` to them (:func:`audioenh.evaluation.transients.reference_db`), on the contribution
        :meth:`apply` adds (:meth:`crossed_over`)."""
        added = self.crossed_over(inputs, outputs)
        return replace(self, burst_reference_db=transients.reference_db(inputs, added, self.edge_hz, sample_rate))


def limit_excerpt(audio: np.ndarray, sample_rate: int, seconds: float = LIMIT_SECONDS, pieces: int = 3) -> np.ndarray:
    """What the level limit measures of (channels, samples) analysis excerpts: all of them up to
    ``seconds``, else ``pieces`` evenly spaced parts of ``seconds / pieces`` each, joined."""
    audio = np.atleast_2d(audio)
    length = int(seconds * sample_rate)
    if audio.shape[-1] <= length:
        return audio
    part = length // pieces
    starts = [int((k + 0.5) * audio.shape[-1] / pieces - part / 2) for k in range(pieces)]
    return np.concatenate([audio[:, s : s + part] for s in starts], axis=-1)


def at_model_rate(audio: np.ndarray, audio_rate: int, model_rate: int) -> np.ndarray:
    """(channels, samples) ``audio`` resampled (soxr) from ``audio_rate`` to ``model_rate`` Hz, float64."""
    audio = np.atleast_2d(np.asarray(audio, dtype=np.float64))
    if audio_rate == model_rate:
        return audio
    import soxr

    return soxr.resample(audio.T, audio_rate, model_rate).T


def plan_restoration(
    audio: np.ndarray,
    audio_rate: int,
    model_rate: int,
    trained_specs: list[str],
    edge_hz: float | None = None,
    validated_gain_db: float | None = None,
    validated_ranges: ValidatedRanges | None = None,
) -> Restoration:
    """Safe mode's decision for an input of which ``audio`` is (an excerpt of) the samples, at
    ``audio_rate`` Hz, for a network at ``model_rate`` Hz trained on ``trained_specs``: the band edge
    (detected unless ``edge_hz`` is given), the crossover, and the trust: how well the input's band
    limit matches one of the training degradations (module docstring). No training degradations
    (an old checkpoint): trusted. A model whose own validation did not gain (``validated_gain_db``
    ≤ 0: it makes even its training conditions worse) is not trusted anywhere. ``validated_ranges``
    (:mod:`audioenh.evaluation.response_validation`; ``None``: not validated, every response
    counts): only the training responses the network was validated to restore are matched, each
    moved only within the edges where it was."""
    from ..analysis.bandwidth import recording_edge

    edge = float(edge_hz) if edge_hz is not None else recording_edge(audio, audio_rate)
    if audio_rate != model_rate and edge < model_rate / 2:  # analysed as the network will see it
        audio = at_model_rate(audio, audio_rate, model_rate)
        if edge_hz is None:
            edge = recording_edge(audio, model_rate)
    taps = restoration_filter(edge, model_rate)
    if taps is None:
        return Restoration(edge, None, 0.0, None)
    if validated_gain_db is not None and validated_gain_db <= 0:
        return Restoration(edge, taps, 0.0, None, validated_gain_db=validated_gain_db)
    if not trained_specs:
        return Restoration(edge, taps, 1.0, None, validated_gain_db=validated_gain_db)
    responses = training_responses(tuple(trained_specs), model_rate)
    validated = None
    if validated_ranges is not None:
        responses = with_validated_ranges(responses, validated_ranges)
        validated = len(responses)
    compared = tuple(r for r in responses if not r.gentle)
    named = compared or responses  # the training edges messages name
    if not named:  # validation left none
        return Restoration(edge, taps, 0.0, None, validated_gain_db=validated_gain_db, validated_responses=0)
    trained = (min(r.edge_hz for r in named), max(r.edge_hz for r in named))
    mismatch, matched = best_match(audio, model_rate, edge, compared)
    gain = trust_from_mismatch(mismatch, moved=matched is not None and matched.movable)
    if gain > 0 and matched is not None:
        taps = matched_filter(edge, model_rate, matched)
    spec = matched.spec if matched is not None else None
    fixed = matched is not None and not matched.movable
    return Restoration(edge, taps, gain, trained, mismatch, spec, validated_gain_db, fixed, validated, matched)


def matched_filter(edge_hz: float, model_rate: int, matched: TrainingResponse) -> np.ndarray | None:
    """The crossover for an input matched to ``matched``: from the edge, or, for a fixed training filter
    that attenuates from close to the edge, from where it starts to (the input is not intact there);
    responses moved from a range are not trusted that far from the edge."""
    if not matched.movable:
        start = attenuation_start_hz(matched)
        if start >= edge_hz - MAX_BELOW_EDGE_HZ:
            return restoration_filter(edge_hz, model_rate, pass_from_hz=start)
    return restoration_filter(edge_hz, model_rate)


#: validated edge ranges of training responses: ``(spec, low Hz, high Hz)`` per validated response
ValidatedRanges = tuple[tuple[str, float, float], ...]


def with_validated_ranges(
    responses: tuple[TrainingResponse, ...], validated: ValidatedRanges
) -> tuple[TrainingResponse, ...]:
    """The ``responses`` named in ``validated``, each with its validated edge range; the others dropped."""
    ranges = {spec: (float(low), float(high)) for spec, low, high in validated}
    return tuple(replace(r, validated_range_hz=ranges[r.spec]) for r in responses if r.spec in ranges)


def enhance_array_safely(
    model,
    audio: np.ndarray,
    sample_rate: int,
    trained_specs: list[str],
    *,
    edge_hz: float | None = None,
    chunk: int | None = None,
    context: int | None = None,
    device=None,
    precision: str = "fp32",
    validated_gain_db: float | None = None,
    validated_ranges: ValidatedRanges | None = None,
) -> tuple[np.ndarray, dict]:
    """Safe mode on a whole (channels, samples) array (``audioenh test --mode safe``): returns the output
    and :meth:`Restoration.info` of the plan. Same rule as ``enhance``'s streamed safe mode
    (beyond the signal's ends the crossover sees zeros, where streamed blocks see the network's answer
    to zeros: the two differ only within half the filter's length of the ends)."""
    from .self_test import self_tested

    plan = plan_restoration(
        audio, sample_rate, sample_rate, trained_specs, edge_hz, validated_gain_db, validated_ranges
    )
    run = network_run(model, sample_rate, chunk=chunk, context=context, device=device, precision=precision)
    plan = self_tested(plan, audio, sample_rate, run)
    out, plan = restore_array(model, audio, plan, sample_rate, run=run)
    return out, plan.info()


def network_run(
    model,
    sample_rate: int,
    *,
    chunk: int | None = None,
    context: int | None = None,
    device=None,
    precision: str = "fp32",
):
    """The network's output for a whole (channels, samples) array at ``sample_rate``, as a function: run
    block by block with ``context`` (default its receptive field) plus the crossover's reach."""
    from ..architectures.receptive import receptive_field
    from .inference import DEFAULT_CHUNK, enhance_array

    reach = (context if context is not None else receptive_field(model)) + crossover_reach(sample_rate)

    def run(audio: np.ndarray) -> np.ndarray:
        return enhance_array(
            model, audio, chunk=chunk or DEFAULT_CHUNK, context=reach, device=device, precision=precision
        )

    return run


def restore_array(
    model,
    audio: np.ndarray,
    plan: Restoration,
    sample_rate: int,
    *,
    chunk: int | None = None,
    context: int | None = None,
    device=None,
    precision: str = "fp32",
    run=None,
) -> tuple[np.ndarray, Restoration]:
    """Safe mode's ``plan`` carried out on a whole (channels, samples) array: the network run block by
    block (``run``, default :func:`network_run` with ``chunk``, ``context``, ``device`` and
    ``precision``), then :meth:`Restoration.apply`; the output (float32) and the plan as applied. A
    plan that skips the network returns a copy of ``audio``."""
    if plan.skip:
        return np.asarray(audio, dtype=np.float32).copy(), plan
    run = run or network_run(model, sample_rate, chunk=chunk, context=context, device=device, precision=precision)
    return plan.apply(audio, run(audio), sample_rate)
