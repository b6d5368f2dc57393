"""Safe mode's self-test: does the network restore *this* input's kind of music?

Response validation (:mod:`audioenh.evaluation.response_validation`) checks each training band
limit on the model's own validation songs. Music unlike those songs can still be made worse: the
quick report's ResNet recipe, validated on the built-in corpus, lost 2 dB on real recordings
low-passed by a gentle 13-kHz Butterworth at full trust, and its validation songs could not show it.

The input itself holds the answer for the band just below its edge. So before trusting the network
with an input whose band ends at ``E`` Hz, a copy of the input is *pitched up* by ``r = (E +``
:data:`PITCH_MARGIN_HZ` ``) / E`` (resampled, so every frequency is multiplied by ``r``: the music
now reaches ``r·E``), band-limited by the very degradation the plan matched (its training draw,
moved to ``E`` as safe mode moves it), and restored exactly as safe mode would restore the input
(crossover at the copy's detected edge, full trust, level limit). The copy's own band up to ``r·E``
is the reference: the network passes when its output is closer to it than the band-limited copy,
scored as the SNR (dB) over the band it may change, from :data:`BAND_BELOW_EDGE_HZ` below the copy's
edge to :data:`TOP_MARGIN_HZ` below ``r·E``. A network that fails (gain ≤ :data:`MIN_GAIN_DB`), or an
input too close to the Nyquist frequency to be pitched up by at least :data:`MIN_PITCH`, is not
trusted: the input is kept. The test costs one run of the network on the (shorter) pitched copy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
from scipy import signal

from .crossover import Restoration, response_shift_hz

PITCH_MARGIN_HZ = 2500.0  # the pitched copy's band reaches this far above the input's edge (Hz)
MIN_PITCH = 1.05  # an input that cannot be pitched up this much (edge near Nyquist) is not trusted
BAND_BELOW_EDGE_HZ = 2000.0  # the test band starts this far below the copy's detected edge (Hz) ...
TOP_MARGIN_HZ = 300.0  # ... and ends this far below the copy's own band end (Hz)
BAND_TAPS = 1023  # length of the linear-phase band-pass the test band is cut with (samples)
MIN_GAIN_DB = 0.0  # the network passes when it gains more than this in the test band (dB)
UNTESTABLE_DB = -999.0  # the result recorded for an input that cannot be pitched up (dB)

#: how far each of :data:`~audioenh.evaluation.crossover.EDGE_PARAMETERS` moves per Hz of band edge
EDGE_PER_HZ = {"cutoff": 1.0, "rate": 2.0}

#: ``run(audio)``: the network's output for a (channels, samples) array at the model's rate
Network = Callable[[np.ndarray], np.ndarray]


def moved_spec(spec: str, shift_hz: float) -> str:
    """The concrete degradation ``spec`` with its band edge moved by about ``shift_hz`` (Hz): each
    member's ``cutoff`` moved by the shift, its ``rate`` by twice it (the edge of a resampling is
    about half its rate); ``spec`` itself when there is nothing to move."""
    from ..spec import Spec, format_chain, parse_chain

    if shift_hz == 0:
        return spec
    members = parse_chain(spec)
    moved = []
    for member in members:
        kwargs = dict(member.kwargs)
        for name, factor in EDGE_PER_HZ.items():
            if isinstance(kwargs.get(name), (int, float)):
                kwargs[name] = round(float(kwargs[name]) + factor * shift_hz, 1)
        moved.append(Spec(member.name, member.args, kwargs))
    return format_chain(moved)


def pitched_up(audio: np.ndarray, factor: float, sample_rate: int) -> np.ndarray:
    """(channels, samples) ``audio`` with every frequency multiplied by ``factor`` (> 1): resampled
    (soxr) to ``sample_rate / factor`` and read at ``sample_rate``, so also ``factor`` times shorter."""
    import soxr

    audio = np.atleast_2d(np.asarray(audio, dtype=np.float64))
    return np.ascontiguousarray(soxr.resample(audio.T, sample_rate, sample_rate / factor).T)


def band_snr_gain_db(
    reference: np.ndarray, before: np.ndarray, after: np.ndarray, low_hz: float, high_hz: float, sample_rate: int
) -> float:
    """How much closer ``after`` is to ``reference`` than ``before`` (SNR, dB) between ``low_hz`` and
    ``high_hz`` (Hz), all three cut with one linear-phase band-pass."""
    taps = signal.firwin(BAND_TAPS, [low_hz, high_hz], pass_zero=False, fs=sample_rate)

    def band(x: np.ndarray) -> np.ndarray:
        return signal.oaconvolve(np.atleast_2d(np.asarray(x, dtype=np.float64)), taps[None], mode="same", axes=-1)

    ref = band(reference)
    power = float(np.sum(ref**2))

    def snr(x: np.ndarray) -> float:
        return 10 * np.log10(power / max(float(np.sum((ref - band(x)) ** 2)), 1e-30))

    return snr(after) - snr(before)


@dataclass(frozen=True)
class PitchedCopy:
    """The self-test's material for one input: the pitched-up copy (the reference), the copy
    band-limited like the input, its detected edge and the band scored (Hz)."""

    reference: np.ndarray
    degraded: np.ndarray
    edge_hz: float
    low_hz: float
    high_hz: float


def pitched_copy(plan: Restoration, audio: np.ndarray, sample_rate: int) -> PitchedCopy | None:
    """:class:`PitchedCopy` of ``audio`` (channels, samples at the model's rate ``sample_rate``) under
    ``plan``; ``None`` when it cannot be made (an input too close to the Nyquist frequency)."""
    from ..analysis.bandwidth import recording_edge
    from ..degradations.chain import DegradationSampler, resolve_degradations

    response = plan.response
    edge = plan.edge_hz
    factor = min((edge + PITCH_MARGIN_HZ) / edge, (sample_rate / 2 - TOP_MARGIN_HZ - 100.0) / edge)
    if factor < MIN_PITCH:
        return None
    # the reference is the input as it is, pitched up: where a gentle band limit already attenuated
    # the music below the edge, the copy keeps that roll-off, and a network must not restore more than
    # the input shows (undoing the matched roll-off, or scoring only the intact band, let the quick
    # recipe lose 0.36 dB on real recordings: docs/results.md)
    reference = pitched_up(audio, factor, sample_rate)
    resolved = resolve_degradations([moved_spec(response.spec, response_shift_hz(edge, response))], sample_rate)[0]
    sampler = DegradationSampler(resolved.canonical, sample_rate)
    degraded = sampler.build(resolved.canonical)(reference, sample_rate, np.random.default_rng(0))
    copy_edge = recording_edge(degraded, sample_rate)
    top = factor * edge - TOP_MARGIN_HZ
    if top <= copy_edge:  # nothing to score the restoration on
        return None
    low = max(copy_edge - BAND_BELOW_EDGE_HZ, 500.0)
    return PitchedCopy(reference, np.asarray(degraded, dtype=np.float32), copy_edge, low, top)


def self_test_db(plan: Restoration, audio: np.ndarray, sample_rate: int, run: Network) -> float:
    """The self-test's gain (dB, module docstring) of the network ``run`` on ``audio`` (channels,
    samples at the model's rate ``sample_rate``; the input or an excerpt of it) under ``plan``;
    :data:`UNTESTABLE_DB` when no test copy can be made (:func:`pitched_copy`)."""
    copy = pitched_copy(plan, audio, sample_rate)
    probe = None if copy is None else Restoration.matched_at(copy.edge_hz, sample_rate, plan.response)
    if probe is None:  # no copy, or the copy's band reaches the Nyquist frequency
        return UNTESTABLE_DB
    restored, _ = probe.apply(copy.degraded, run(copy.degraded), sample_rate)
    return band_snr_gain_db(copy.reference, copy.degraded, restored, copy.low_hz, copy.high_hz, sample_rate)


def self_tested(plan: Restoration, audio: np.ndarray, sample_rate: int, run: Network) -> Restoration:
    """``plan`` after the self-test on ``audio`` (at the model's rate ``sample_rate``) with the network
    ``run``: its ``self_test_db`` set, and not trusted (gain 0) when the test fails. Plans that skip the
    network, have no matched training response (a checkpoint without its training degradations) or
    were tested already come back as they are."""
    if plan.skip or plan.response is None or plan.self_test_db is not None:
        return plan
    gain_db = self_test_db(plan, audio, sample_rate, run)
    return replace(plan, self_test_db=gain_db, gain=plan.gain if gain_db > MIN_GAIN_DB else 0.0)
