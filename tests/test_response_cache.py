"""Safe mode's training responses are kept on disk: equal to a fresh measurement, re-measured when
the entry is corrupt, and never an error when the cache cannot be written."""

import numpy as np
import pytest

from audioenh.evaluation import crossover, response_cache

SPECS = ("cheby1:order=6,cutoff=11025.0,rp=0.05", "butter:order=4..6,cutoff=9000..12000")


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("AUDIOENH_CACHE", str(tmp_path / "cache"))
    crossover.training_responses.cache_clear()
    yield tmp_path / "cache"
    crossover.training_responses.cache_clear()


def measured_calls(monkeypatch):
    calls = []
    measure = crossover.measure_training_responses

    def counting(specs, rate):
        calls.append(specs)
        return measure(specs, rate)

    monkeypatch.setattr(crossover, "measure_training_responses", counting)
    return calls


def assert_same(a, b):
    assert len(a) == len(b) > 1
    for x, y in zip(a, b):
        assert x.spec == y.spec and x.edge_hz == y.edge_hz and x.edge_range_hz == y.edge_range_hz
        np.testing.assert_array_equal(x.freqs, y.freqs)
        np.testing.assert_array_equal(x.response_db, y.response_db)


def test_a_second_process_reads_what_the_first_measured(cache, monkeypatch):
    calls = measured_calls(monkeypatch)
    first = crossover.training_responses(SPECS, 44100)
    assert calls == [SPECS]
    path = response_cache.entry_path(SPECS, 44100, {"probe_s": crossover.PROBE_SECONDS, "draws": crossover.RANGE_DRAWS})
    assert path.parent == cache / "responses" and path.is_file()
    crossover.training_responses.cache_clear()  # as in a new process
    second = crossover.training_responses(SPECS, 44100)
    assert calls == [SPECS]  # not measured again
    assert_same(first, second)
    assert_same(first, crossover.measure_training_responses(SPECS, 44100))
    assert len(first) == 1 + 2 + crossover.RANGE_DRAWS  # a fixed spec; a range's extremes and draws
    assert response_cache.entry_path(SPECS[:1], 44100, {}) != response_cache.entry_path(SPECS[:1], 48000, {})


def test_a_corrupt_entry_is_measured_again_and_replaced(cache, monkeypatch):
    calls = measured_calls(monkeypatch)
    first = crossover.training_responses(SPECS[:1], 44100)
    (path,) = (cache / "responses").glob("*.npz")
    path.write_bytes(b"not an npz file")
    crossover.training_responses.cache_clear()
    again = crossover.training_responses(SPECS[:1], 44100)
    assert len(calls) == 2
    assert_same(first * 2, again * 2)
    assert response_cache.load(path, crossover.TrainingResponse) is not None  # rewritten whole


def test_a_cache_that_cannot_be_written_is_not_an_error(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("the cache root is a file")
    monkeypatch.setenv("AUDIOENH_CACHE", str(blocker))
    crossover.training_responses.cache_clear()
    try:
        responses = crossover.training_responses(SPECS[:1], 44100)
    finally:
        crossover.training_responses.cache_clear()
    assert len(responses) == 1 and 11000 < responses[0].edge_hz < 13000
