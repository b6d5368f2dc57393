"""An excerpt of a zero-phase (forward-backward) IIR filtering, computed from the filter's states at its edges.

``filtfilt`` of a whole file, read at ``[start, stop)``, depends on the input before ``start`` only
through the forward pass's state there, and on what follows ``stop`` only through the backward
pass's state there. Each state is a few past values of the signals inside the cascade (a section's
input and output), and each of those values is a dot product of the input with a *partial* impulse
response (the cascade up to that section), which dies out within the filter's context. So instead of
filtering ``context + excerpt + context`` samples forwards and backwards (four passes over a
context), :class:`ExcerptFilter` computes the forward states by dot products, filters forwards from
``start`` through one context after ``stop``, computes the backward states from that output by dot
products, and filters backwards over the excerpt alone: the same samples to float rounding, for
about a quarter of the recursive work where the context is long (an elliptic low-pass of order 12
at 11 kHz needs 70 847 samples of context on each side of a 2048-sample training chunk).

The recursions are scipy's own (``lfilter`` for the (b, a) form, ``sosfilt`` for second-order
sections, as ``filtfilt`` and ``sosfiltfilt`` run them); states follow lfilter's transposed
direct form II, as ``scipy.signal.lfiltic`` builds them.
"""

from __future__ import annotations

import numpy as np
from scipy import signal

#: a partial response is computed only while its slowest pole keeps it above this fraction of its
#: start, and is zero after: beyond, it adds nothing to a dot product, and a recursion running on into
#: subnormal numbers is many times slower
_NEGLIGIBLE = 1e-200


class ExcerptFilter:
    """Zero-phase filtering of an excerpt, for a filter given as ``ba`` (one (b, a) polynomial pair,
    run by ``lfilter``, as ``filtfilt`` runs it) or ``sos`` (second-order sections, run by ``sosfilt``,
    as ``sosfiltfilt`` runs them).

    ``reach``: samples of real signal used on each side of an excerpt (the filter's context): the
    length of each partial impulse response kept. ``responses``: those responses, (reach, sections),
    where the caller has them already (computed here otherwise).
    """

    def __init__(
        self,
        reach: int,
        *,
        ba: tuple[np.ndarray, np.ndarray] | None = None,
        sos: np.ndarray | None = None,
        responses: np.ndarray | None = None,
    ):
        if (ba is None) == (sos is None):
            raise ValueError("give either ba or sos")
        self.reach = int(reach)
        self.sos = None if sos is None else np.asarray(sos, dtype=np.float64)
        if ba is not None:
            b, a = (np.asarray(v, dtype=np.float64) for v in ba)
            size = max(len(b), len(a))
            b, a = np.pad(b, (0, size - len(b))) / a[0], np.pad(a, (0, size - len(a))) / a[0]
            self.ba = (b, a)
            self.sections = [(b, a)]
        else:
            self.ba = None
            self.sections = [(row[:3] / row[3], row[3:] / row[3]) for row in self.sos]
        self.order = len(self.sections[0][1]) - 1  # of each section
        if self.reach <= self.order:
            raise ValueError(f"reach must exceed the filter's order {self.order}, got {reach!r}")
        responses = self._partial_responses() if responses is None else np.asarray(responses, dtype=np.float64)
        if responses.shape != (self.reach, len(self.sections)):
            raise ValueError(f"responses must be shaped {(self.reach, len(self.sections))}, got {responses.shape}")
        # one aligned copy per section, kept alone (up to 6 x 70 847 samples: 3.4 MB per drawn filter)
        self._columns = [_aligned(responses[:, k]) for k in range(len(self.sections))]

    @property
    def responses(self) -> np.ndarray:
        """(reach, sections): ``responses[j, k]`` is the impulse response of sections 0..k at lag j."""
        return np.stack(self._columns, axis=1)

    def _partial_responses(self) -> np.ndarray:
        """(reach, sections) float64: column k is the impulse response of sections 0..k."""
        n = self.reach
        out = np.zeros((n, len(self.sections)))
        h = np.zeros(n)
        h[0] = 1.0
        slowest = 0.0
        for k, (b, a) in enumerate(self.sections):
            roots = np.roots(a)
            slowest = max(slowest, float(np.max(np.abs(roots), initial=0.0)))
            alive = n
            if slowest < 1.0:
                alive = min(n, int(np.log(_NEGLIGIBLE) / np.log(max(slowest, 1e-3))) + 2 * self.order + 1)
            h = np.concatenate([signal.lfilter(b, a, h[:alive]), np.zeros(n - alive)])
            out[:, k] = h
        return out

    def _states(self, inputs: np.ndarray, outputs: np.ndarray, section: int) -> np.ndarray:
        """lfilter's state (rows, order) of ``section`` after ``inputs`` and ``outputs`` (rows, order),
        each most recent first (``scipy.signal.lfiltic``, for many rows at once)."""
        b, a = self.sections[section]
        m = self.order
        state = np.zeros((inputs.shape[0], m))
        # term by term, in one order for every row: numpy's row sums (and BLAS) may order a row's terms
        # by how many rows there are, and a (b, a) recursion of order 12 amplifies a last-bit difference
        # in its state 10^8 times
        for i in range(m):
            for j in range(i + 1, m + 1):
                state[:, i] += b[j] * inputs[:, j - i - 1] - a[j] * outputs[:, j - i - 1]
        return state

    def _run(self, x: np.ndarray, states: list[np.ndarray]) -> np.ndarray:
        """The cascade over ``x`` (rows, samples) from per-section ``states`` (each (rows, order))."""
        if self.ba is not None:
            return signal.lfilter(*self.ba, x, axis=-1, zi=states[0])[0]
        return signal.sosfilt(self.sos, x, axis=-1, zi=np.stack(states))[0]

    def _cascade_values(self, x: np.ndarray, first: int, count: int, reverse: bool) -> np.ndarray:
        """Every section's output at ``count`` positions of ``x`` (rows, samples): (rows, count, sections).

        Forwards (``reverse=False``): at positions ``first - 1, first - 2, ...`` (most recent first), as
        dot products of the input since ``first - reach`` with the partial responses. Backwards: at
        ``first, first + 1, ...``, with the input up to ``first + reach`` (the backward pass runs in
        reversed time). Every value starts from the same sample: the values are those of one
        trajectory of the filter, started at rest there. Windows ending at each value (the same
        length each) had cut the input at different samples, and the states built from such values
        held an error the recursion of a high-order (b, a) filter amplified to 5 % of the signal."""
        rows, reach = x.shape[0], self.reach
        out = np.empty((rows, count, len(self.sections)))
        for r in range(rows):  # row by row: a row's values do not depend on how many rows are stacked
            # the input in the order the responses weigh it: after `first` as it is, before it reversed
            ahead = _aligned(x[r, first : first + reach] if reverse else x[r, first - reach : first][::-1])
            for i in range(count):
                for k, response in enumerate(self._columns):
                    # numpy's own single-threaded loop, not BLAS, which may split a long dot product
                    # over its threads: a value must not depend on the BLAS thread count (as fast here)
                    out[r, i, k] = np.einsum("i,i->", ahead[i:], response[: reach - i])
        return out

    def __call__(self, audio: np.ndarray, start: int, stop: int) -> np.ndarray:
        """``filtfilt`` of the file that ``audio`` (rows, samples) is part of, at ``[start, stop)`` of
        ``audio``: float64 (rows, stop - start). Needs :attr:`reach` samples on each side."""
        x = np.asarray(audio, dtype=np.float64)
        start, stop = int(start), int(stop)
        if start < self.reach or x.shape[-1] - stop < self.reach or stop <= start:
            raise ValueError(
                f"an excerpt [{start}, {stop}) of {x.shape[-1]} samples leaves less than {self.reach} on a side"
            )
        m = self.order
        # forward pass: states at `start` from the input before it
        before = self._cascade_values(x, start, m, reverse=False)
        forward = self._run(
            x[:, start : stop + self.reach], self._cascade_states(x[:, start - m : start][:, ::-1], before)
        )
        # backward pass: states at `stop` (in reversed time) from the forward output after it
        end = stop - start
        after = self._cascade_values(forward, end, m, reverse=True)
        states = self._cascade_states(forward[:, end : end + m], after)
        return self._run(forward[:, :end][:, ::-1], states)[:, ::-1]

    def _cascade_states(self, inputs: np.ndarray, values: np.ndarray) -> list[np.ndarray]:
        """Each section's state from the cascade's input (rows, order) and every section's output
        ``values`` (rows, order, sections) at the same positions, most recent first: a section's
        input is the previous section's output."""
        states = []
        for k in range(len(self.sections)):
            outputs = values[:, :, k]
            states.append(self._states(inputs, outputs, k))
            inputs = outputs
        return states


def _aligned(values: np.ndarray) -> np.ndarray:
    """A copy of 1-D ``values`` starting on a 64-byte boundary: a vectorised sum may take its terms in
    another order at another alignment, and a row's result must not depend on where it lies in memory."""
    buffer = np.empty(values.size + 8)
    skip = (-buffer.ctypes.data % 64) // buffer.itemsize
    out = buffer[skip : skip + values.size]
    out[:] = values
    return out
