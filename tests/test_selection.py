"""A bank of models: per input, the one safe mode trusts most; in the matrix, a bank's row equals,
cell by cell, the member it picks."""

import dataclasses

import numpy as np
import pytest
import soundfile as sf
import torch

from audioenh.data.builtin import generate_song
from audioenh.data.corpus import resolve_corpus
from audioenh.degradations.chain import DegradationSampler
from audioenh.evaluation.crossover import Restoration, plan_restoration
from audioenh.evaluation.matrix import MatrixModel, score_matrix
from audioenh.evaluation.selection import Candidate, choose_restoration, first_passing, preference, ranked_restorations
from audioenh.reports.matrix import matrix_table
from tests.test_do_no_harm import random_model

SR = 44100
AT_11K = Candidate(("cheby1:order=8,cutoff=11025", "ellip:order=12,cutoff=11025"))
AT_16K = Candidate(("cheby1:order=8,cutoff=16000", "ellip:order=12,cutoff=16000"))


@pytest.fixture(scope="module")
def song():
    return generate_song(3, 4.0, SR)


def degrade(audio, spec):
    out, _ = DegradationSampler(spec, SR).degrade(audio, SR, np.random.default_rng(0))
    return np.asarray(out, dtype=np.float32)


@pytest.mark.parametrize(("spec", "expected"), [("cheby1:order=8,cutoff=11025", 0), ("cheby1:order=8,cutoff=16000", 1)])
def test_the_model_trained_on_the_inputs_band_limit_is_chosen(song, spec, expected):
    limited = degrade(song, spec)
    for order in ([AT_11K, AT_16K], [AT_16K, AT_11K]):  # whatever the bank's order
        chosen, plan = choose_restoration(limited, SR, SR, order)
        assert order[chosen] is [AT_11K, AT_16K][expected]
        assert plan.gain == 1.0 and plan.matched is not None
        # the plan is the one that model alone gets
        alone = plan_restoration(limited, SR, SR, list(order[chosen].trained_specs))
        assert (alone.gain, alone.mismatch_db, alone.edge_hz) == (plan.gain, plan.mismatch_db, plan.edge_hz)
        # the other model is not trusted on it
        other = plan_restoration(limited, SR, SR, list(order[1 - chosen].trained_specs))
        assert other.gain == 0.0


def test_a_plan_says_whether_its_match_was_trained_at_a_fixed_band_edge(song):
    limited = degrade(song, "butter:order=8,cutoff=11025")
    fixed = plan_restoration(limited, SR, SR, ["butter:order=8,cutoff=11025"])
    ranged = plan_restoration(limited, SR, SR, ["butter:order=6..8,cutoff=9000..13000"])  # cut-offs drawn
    orders = plan_restoration(limited, SR, SR, ["butter:order=6..8,cutoff=11025"])  # a fixed cut-off
    assert fixed.gain == ranged.gain == orders.gain == 1.0
    assert (fixed.fixed_match, ranged.fixed_match, orders.fixed_match) == (True, False, True)
    assert ranged.info()["fixed_match"] is False


def test_with_no_model_trusted_the_first_is_the_fallback(song):
    full = np.asarray(song, dtype=np.float32)
    chosen, plan = choose_restoration(full, SR, SR, [AT_16K, AT_11K])
    assert chosen == 0 and plan.skip
    cheby2 = degrade(song, "cheby2:order=8,cutoff=13000")  # a shape neither was trained on
    chosen, plan = choose_restoration(cheby2, SR, SR, [AT_11K, AT_16K])
    assert chosen == 0 and plan.gain == 0.0


def test_preference_is_trust_then_a_fixed_match_then_mismatch_then_order():
    def plan(gain, mismatch, fixed=True):
        return Restoration(12000.0, np.ones(3), gain, (11000.0, 11000.0), mismatch, fixed_match=fixed)

    plans = [plan(0.5, 3.6), plan(1.0, 2.9), plan(1.0, 1.2), plan(1.0, 1.2), plan(1.0, float("inf"))]
    plans.append(plan(1.0, 0.5, fixed=False))  # the best mismatch, but moved from a range of cut-offs
    ranked = sorted(range(len(plans)), key=lambda i: preference(plans[i], i), reverse=True)
    assert ranked == [2, 3, 1, 4, 5, 0]
    with pytest.raises(ValueError, match="no models"):
        choose_restoration(np.zeros((2, SR)), SR, SR, [])


def test_the_ranking_puts_the_chosen_model_first_and_the_untrusted_last(song):
    limited = degrade(song, "cheby1:order=8,cutoff=11025")
    bank = [AT_16K, Candidate(("cheby1:order=6..8,cutoff=9000..13000",)), AT_11K]
    ranked = ranked_restorations(limited, SR, SR, bank)
    assert [i for i, _ in ranked] == [2, 1, 0]  # trained at 11025 Hz, then at a range of cut-offs, then 16 kHz
    chosen, plan = choose_restoration(limited, SR, SR, bank)
    assert (chosen, plan.edge_hz, plan.matched) == (ranked[0][0], ranked[0][1].edge_hz, ranked[0][1].matched)
    assert [p.gain for _, p in ranked] == [1.0, 1.0, 0.0]


def test_a_model_that_fails_its_test_hands_the_input_to_the_next_trusted_one():
    def plan(gain):
        return Restoration(12000.0, np.ones(3) if gain else None, gain, (11000.0, 11000.0), 1.0)

    ranked = [(2, plan(1.0)), (0, plan(0.5)), (1, plan(0.0))]
    tried = []

    def test(passing):
        def run(index, p):
            tried.append(index)
            return p if index in passing else dataclasses.replace(p, gain=0.0, self_test_db=-1.0)

        return run

    assert first_passing(ranked, test({0, 2}))[1] is ranked[0][1] and tried == [2]
    tried.clear()
    chosen, tested = first_passing(ranked, test({0}))  # the first fails: the next trusted one is used
    assert (chosen, tested.gain, tried) == (0, 0.5, [2, 0])
    tried.clear()
    chosen, tested = first_passing(ranked, test({1}))  # every trusted one fails; the untrusted is not tried
    assert (chosen, tested.gain, tested.self_test_db, tried) == (2, 0.0, -1.0, [2, 0])
    tried.clear()
    kept = [(1, plan(0.0)), (0, plan(0.0))]
    assert first_passing(kept, test({0, 1}))[1] is kept[0][1] and tried == []  # nothing trusted: nothing tested


def test_a_banks_matrix_row_is_cell_by_cell_the_model_it_picks(tmp_path, self_test_passes):
    for split, seeds in (("train", (50,)), ("test", (51,))):
        (tmp_path / split).mkdir()
        for seed in seeds:
            sf.write(tmp_path / split / f"s{seed}.flac", generate_song(seed, 2.0, SR).T, SR, subtype="PCM_24")
    songs = resolve_corpus([str(tmp_path)]).test
    low = MatrixModel("low", random_model(3), list(AT_11K.trained_specs))
    high = MatrixModel("high", random_model(4), list(AT_16K.trained_specs))
    bank = MatrixModel.bank("bank", [low, high])
    cells = ["cheby1:order=8,cutoff=11025", "ellip:order=12,cutoff=16000", "cheby2:order=8,cutoff=13000"]
    result = score_matrix([low, high, bank], songs, cells, device=torch.device("cpu"))
    picks = {cells[0]: "low", cells[1]: "high", cells[2]: "low"}  # the last: none trusted, the fallback
    for cell, member in picks.items():
        for mode in ("raw", "safe"):
            got = result["results"][mode]["bank"][cell]
            assert got["delta"]["snr"] == pytest.approx(result["results"][mode][member][cell]["delta"]["snr"], abs=1e-6)
            assert got["used"] == {"low": int(member == "low"), "high": int(member == "high")}
    assert result["results"]["safe"]["bank"][cells[1]]["trust"] == 1.0
    assert result["results"]["safe"]["bank"][cells[2]]["trust"] == 0.0
    assert result["models"]["bank"]["bank"] == ["low", "high"]
    assert result["models"]["bank"]["trained"] == [*AT_11K.trained_specs, *AT_16K.trained_specs]
    _, rows = matrix_table(result, "safe")
    assert rows[1][-1].endswith("[high]") and "[" not in rows[2][-1]  # untrusted: the input, no model named


def test_a_bank_hands_an_input_its_first_choice_fails_on_to_the_next_trusted_model(song, tmp_path):
    """Real networks: a noise maker said to be trained on exactly the input's band limit ranks first and
    fails its self-test; the bundled Chebyshev I specialist, trusted there too, passes and restores the
    input, in enhance's choice and in the matrix."""
    from audioenh.checkpoint import load_model, training_degradations
    from audioenh.commands.enhance import describe_hand_down, plan_with_bank
    from audioenh.pretrained import resolve_model
    from tests.test_do_no_harm import checkpoint

    spec = "cheby1:order=8,cutoff=11025"
    noise = random_model(seed=7, scale=0.5)
    noise_ckpt = {**checkpoint(noise), "degradations": [spec]}
    good, good_ckpt = load_model(resolve_model("resnet-11k-cheby1"))
    limited = degrade(song, spec)
    cpu = torch.device("cpu")
    ranked = ranked_restorations(limited, SR, SR, [Candidate.of(noise_ckpt), Candidate.of(good_ckpt)])
    assert [i for i, _ in ranked] == [0, 1] and all(p.gain == 1.0 for _, p in ranked)  # the noise maker first
    alone, plan = plan_with_bank([(noise, noise_ckpt)], limited, SR, None, "safe", cpu, "fp32")
    assert alone == 0 and plan.skip and plan.self_test_db < 0  # alone, it fails and keeps the input
    failures = []
    pairs = [(noise, noise_ckpt), (good, good_ckpt)]
    chosen, plan = plan_with_bank(pairs, limited, SR, None, "safe", cpu, "fp32", failures)
    assert chosen == 1 and plan.gain == 1.0 and plan.self_test_db > 0 and plan.limit_db is not None
    assert [i for i, _ in failures] == [0] and failures[0][1].self_test_db < 0  # what enhance then says:
    sources = [tmp_path / "noise.pt", resolve_model("resnet-11k-cheby1")]
    said = describe_hand_down(failures, chosen, sources)
    assert said == (
        f"failed the self-test on this music: {tmp_path / 'noise.pt'} ({failures[0][1].self_test_db:+.2f} dB); "
        "handed to bundled model resnet-11k-cheby1"
    )
    assert describe_hand_down([], 1, sources) is None and describe_hand_down(failures, 0, sources) is None
    chosen, _ = plan_with_bank([(noise, noise_ckpt), (good, good_ckpt)], limited, SR, None, "raw", cpu, "fp32")
    assert chosen == 1  # raw mode runs the model safe mode picks

    (tmp_path / "test").mkdir()
    sf.write(tmp_path / "test" / "s.flac", song.T, SR, subtype="PCM_24")
    songs = resolve_corpus([str(tmp_path)]).test
    rows = [MatrixModel("noise", noise, [spec]), MatrixModel("good", good, training_degradations(good_ckpt))]
    bank = MatrixModel.bank("bank", rows)
    result = score_matrix([*rows, bank], songs, [spec], device=cpu, modes=("safe",))["results"]["safe"]
    assert result["noise"][spec]["delta"]["snr"] == 0.0 and result["noise"][spec]["trust"] == 0.0
    assert result["good"][spec]["delta"]["snr"] > 1.0
    assert result["bank"][spec]["delta"]["snr"] == pytest.approx(result["good"][spec]["delta"]["snr"], abs=1e-6)
    assert result["bank"][spec]["used"] == {"noise": 0, "good": 1}
    raw = score_matrix([*rows, bank], songs, [spec], device=cpu, modes=("raw",))["results"]["raw"]
    assert raw["bank"][spec]["used"] == {"noise": 0, "good": 1}  # raw mode alone: the same choice
    assert raw["bank"][spec]["delta"]["snr"] == pytest.approx(raw["good"][spec]["delta"]["snr"], abs=1e-6)
