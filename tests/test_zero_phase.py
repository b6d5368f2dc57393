"""An excerpt of zero-phase filtering from the filter's states at its edges (degradations.zero_phase)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from audioenh.degradations.filters import EXCERPT_MIN_CONTEXT
from audioenh.degradations.zero_phase import ExcerptFilter
from audioenh.plugins import degradations

from .conftest import SR, music_like

# long contexts in both forms: (b, a) (ellip:12 at 11025 Hz: 70 847 samples; ellip:10: 14 478) and
# second-order sections (ellip:12 at 11 kHz, where (b, a) is unsound; butter:12 at 1 kHz); and short
# ones the low-passes filter plainly, through the excerpt filter itself
SPECS = ["ellip:12", "ellip:12,cutoff=11000", "ellip:10,cutoff=11000", "butter:12,cutoff=1000", "cheby1:6", "bessel:6"]


@pytest.fixture(scope="module")
def song():
    x = music_like(5.0, seed=3)  # 220 500 samples: an excerpt with 70 847 on each side fits
    return x * (0.5 / np.max(np.abs(x)))


def _excerpt_filter(spec: str) -> tuple[object, ExcerptFilter, int]:
    f = degradations().create(spec)
    d = f.design(SR)
    context = f.context_samples(SR)
    ba = (d.b, d.a) if d.form == "ba" else None
    return f, ExcerptFilter(context, ba=ba, sos=None if ba else d.sos), context


@pytest.mark.parametrize("spec", SPECS)
def test_an_excerpt_from_the_states_equals_whole_file_filtering(song, spec):
    """The states at the excerpt's edges, from dot products with the partial impulse responses, give
    filtfilt of the whole file (scipy's own) to float rounding: as close as filtering the excerpt with
    its context, 1000x closer than filtering the excerpt alone."""
    f, excerpt, context = _excerpt_filter(spec)
    whole = f(song, SR)
    start = 75_000 if context > 70_000 else 100_000
    span = song[:, start - context : start + 2048 + context]
    got = excerpt(span, context, context + 2048)
    assert got.shape == (2, 2048) and got.dtype == np.float64
    error = np.max(np.abs(got - whole[:, start : start + 2048]))
    assert error < 1e-6, (spec, error)
    plain = f(span, SR)[:, context : context + 2048]
    assert error < 10 * max(np.max(np.abs(plain - whole[:, start : start + 2048])), 1e-8)
    alone = f(song[:, start : start + 2048], SR)
    assert np.max(np.abs(alone - whole[:, start : start + 2048])) > 1000 * error


@pytest.mark.parametrize("spec", ["ellip:12", "ellip:12,cutoff=11000"])
def test_rows_are_filtered_on_their_own(song, spec):
    """Rows stacked in one call get exactly the samples of one call each (training stacks chunks)."""
    _, excerpt, context = _excerpt_filter(spec)
    spans = [song[:, s - context : s + 2048 + context] for s in (71_000, 72_345, 74_000)]
    stacked = excerpt(np.concatenate(spans), context, context + 2048)
    for k, span in enumerate(spans):
        np.testing.assert_array_equal(stacked[2 * k : 2 * k + 2], excerpt(span, context, context + 2048))
        np.testing.assert_array_equal(stacked[2 * k], excerpt(span[:1], context, context + 2048)[0])


def test_partial_responses_are_the_cascade_up_to_each_section():
    """Column k is the impulse response of the first k+1 sections, as sosfilt runs them."""
    sos = degradations().create("ellip:12,cutoff=11000").design(SR).sos
    excerpt = ExcerptFilter(5000, sos=sos)
    impulse = np.zeros(5000)
    impulse[0] = 1.0
    for k in range(len(sos)):
        np.testing.assert_allclose(excerpt.responses[:, k], signal.sosfilt(sos[: k + 1], impulse), atol=1e-14)


def test_too_little_signal_around_an_excerpt_is_refused(song):
    _, excerpt, context = _excerpt_filter("ellip:10,cutoff=11000")
    with pytest.raises(ValueError, match="leaves less than"):
        excerpt(song[:, : 2 * context + 2048], context - 1, context + 2048)
    with pytest.raises(ValueError, match="either ba or sos"):
        ExcerptFilter(100)


def test_the_low_pass_takes_the_state_path_only_where_the_context_is_long(song, monkeypatch):
    """LowPassFilter.excerpt: the states where its context is long and all there; plain filtfilt with
    context otherwise (short contexts, or an excerpt at the file's edge); the input's dtype back."""
    calls = []
    plain = ExcerptFilter.__call__
    monkeypatch.setattr(ExcerptFilter, "__call__", lambda self, *a: calls.append(1) or plain(self, *a))
    long_filter, short_filter = degradations().create("ellip:12"), degradations().create("cheby1:6")
    c = long_filter.context_samples(SR)
    assert c >= EXCERPT_MIN_CONTEXT > short_filter.context_samples(SR)
    x = song.astype(np.float32)
    whole = long_filter(x, SR)
    out = long_filter.excerpt(x[:, 1000 : 3048 + 2 * c], c, c + 2048, SR)
    assert calls == [1] and out.dtype == np.float32
    d = long_filter.design(SR)  # its partial response: the impulse response context_samples made, the same
    fresh = ExcerptFilter(c, ba=(d.b, d.a))(x[:, 1000 : 3048 + 2 * c], c, c + 2048)
    np.testing.assert_array_equal(out, fresh.astype(np.float32))
    np.testing.assert_allclose(out, whole[:, 1000 + c : 3048 + c], atol=1e-6)
    edge = long_filter.excerpt(x[:, : 2048 + c], 0, 2048, SR)  # at the file's start: no context before it
    assert len(calls) == 2  # the excerpt's and the fresh filter's
    np.testing.assert_allclose(edge, whole[:, :2048], atol=1e-6)
    empty = long_filter.excerpt(x[:, : 2 * c + 10], c, c, SR)  # nothing to filter: plainly
    assert empty.shape == (2, 0) and len(calls) == 2
    short = short_filter.excerpt(x[:, :4096], 1000, 3048, SR)
    assert len(calls) == 2
    np.testing.assert_array_equal(short, short_filter(x[:, :4096], SR)[:, 1000:3048])
