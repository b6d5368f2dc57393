"""Response validation: safe mode matches only the training responses a network was validated to restore,
moved only as far as it was (audioenh.evaluation.response_validation)."""

import numpy as np
import pytest
import torch

from audioenh import plugins
from audioenh.data.builtin import generate_song
from audioenh.evaluation import response_validation as rv
from audioenh.evaluation.crossover import (
    edge_steps,
    plan_restoration,
    response_shift_hz,
    training_responses,
    with_validated_ranges,
)

SR = 44100
RANGE = "cheby1:order=4..12,cutoff=10000..12000"


def gain(spec, edge, mean, worst=None):
    return rv.PositionGain(spec, edge, mean, mean if worst is None else worst)


def test_a_position_is_validated_by_its_mean_gain_and_its_worst_song():
    assert gain("a", 1.0, 0.05, -0.05).validated
    assert not gain("a", 1.0, 0.049, 0.2).validated  # too little to gain
    assert not gain("a", 1.0, 1.5, -0.06).validated  # one song made worse
    assert rv.MIN_GAIN_DB == 0.05 and rv.WORST_SONG_LOSS_DB == 0.05


def test_the_validated_range_reaches_the_farthest_validated_position_tried_from_the_end_inwards():
    gains = {
        "own": gain("own", 13000.0, 1.0),
        "l1": gain("l1", 12500.0, 0.8),
        "l2": gain("l2", 12000.0, 0.3),
        "h1": gain("h1", 14000.0, 0.9),
        "h2": gain("h2", 15000.0, 0.02),
    }
    measured = []

    def measure(position):
        measured.append(position)
        return gains[position]

    assert rv.validated_range("own", [["l1", "l2"], ["h1", "h2"]], measure) == [12000.0, 14000.0]
    assert measured == ["own", "l2", "h2", "h1"]  # l1 lies between validated positions: not scored
    gains["own"] = gain("own", 13000.0, 0.01)
    measured.clear()
    assert rv.validated_range("own", [["l1", "l2"], ["h1", "h2"]], measure) is None  # its own draw failed
    assert measured == ["own"]
    gains["own"], gains["h1"] = gain("own", 13000.0, 1.0), gain("h1", 14000.0, 0.0, -1.0)
    assert rv.validated_range("own", [["l1", "l2"], ["h1", "h2"]], measure) == [12000.0, 13000.0]


def test_edge_steps_move_the_cut_off_towards_each_end_of_its_range():
    from audioenh.degradations.chain import DegradationSampler

    ranged = DegradationSampler(RANGE, SR).specs
    sides = edge_steps("cheby1:order=11,cutoff=11274,rp=0.05", ranged, (0.5, 1.0))
    assert sides == [
        ["cheby1:order=11,cutoff=10637,rp=0.05", "cheby1:order=11,cutoff=10000,rp=0.05"],
        ["cheby1:order=11,cutoff=11637,rp=0.05", "cheby1:order=11,cutoff=12000,rp=0.05"],
    ]
    assert edge_steps("cheby1:order=6,cutoff=11025,rp=0.05", DegradationSampler("cheby1:6", SR).specs, (1.0,)) == []


def test_validated_ranges_drop_unvalidated_responses_and_bound_how_far_the_others_move():
    responses = training_responses((RANGE,), SR)
    first, second = responses[0], responses[1]
    low, high = first.edge_range_hz
    assert high - low > 1000  # order 4: 13.4-15.6 kHz
    kept = with_validated_ranges(responses, ((first.spec, first.edge_hz, first.edge_hz + 500.0),))
    assert [r.spec for r in kept] == [first.spec] and second.spec not in {r.spec for r in kept}
    assert response_shift_hz(high, first) == pytest.approx(high - first.edge_hz)  # unvalidated: the whole range
    assert response_shift_hz(high, kept[0]) == pytest.approx(500.0)  # validated: as far as it was
    assert kept[0].movable  # still a range's draw (compared within the moved tolerance)


def test_stored_validations_are_read_by_their_rule():
    stored = {
        "rule": rv.RULE,
        "responses": [
            {"spec": "a", "validated_range_hz": [1.0, 2.0]},
            {"spec": "b", "validated_range_hz": None},
        ],
    }
    assert rv.ranges_of(stored) == (("a", 1.0, 2.0),)
    assert rv.ranges_of({**stored, "rule": "an-older-rule"}) is None
    assert rv.ranges_of(None) is None


@pytest.fixture(scope="module")
def song():
    return generate_song(21, 4.0, SR).astype(np.float64)


def test_a_model_validated_on_nothing_is_trusted_nowhere(song):
    x = plugins.degradations().create("cheby1:6")(song, SR).astype(np.float32)
    trusted = plan_restoration(x, SR, SR, ["cheby1:6"])
    assert trusted.gain == 1.0  # not validated: every training response counts
    (response,) = training_responses(("cheby1:6",), SR)
    validated = ((response.spec, response.edge_hz, response.edge_hz),)  # a fixed filter: its own edge
    assert plan_restoration(x, SR, SR, ["cheby1:6"], validated_ranges=validated).gain == 1.0
    nothing = plan_restoration(x, SR, SR, ["cheby1:6"], validated_ranges=())
    assert nothing.gain == 0.0 and nothing.skip and nothing.trained is None


class Identity(torch.nn.Module):
    """A network that returns its input: safe mode then gains exactly nothing."""

    def forward(self, x):
        return x.clone()


class Oracle(torch.nn.Module):
    """A network that returns a fixed clean song for its (only) input: everything restored."""

    def __init__(self, clean):
        super().__init__()
        self.clean = torch.as_tensor(clean, dtype=torch.float32)

    def forward(self, x):
        n = x.shape[-1]
        return self.clean[None, :, :n].expand(x.shape[0], -1, -1).clone() if n == self.clean.shape[-1] else x


def test_validation_scores_every_position_on_the_songs(song, monkeypatch):
    """The identity gains 0 dB everywhere (nothing validated); a stand-in network that restores the
    song gains at every position, so the whole range is validated."""
    from audioenh.evaluation import inference

    result = rv.validate_responses(Identity(), ["cheby1:6"], [song], SR)
    assert result["rule"] == rv.RULE and result["songs"] == 1
    (entry,) = result["responses"]
    assert entry["validated_range_hz"] is None
    assert [p["mean_db"] for p in entry["positions"]] == [0.0]

    def restored(model, audio, **kwargs):
        return model(torch.as_tensor(np.asarray(audio, np.float32))[None])[0].numpy()

    monkeypatch.setattr(inference, "enhance_array", restored)
    steps = []
    result = rv.validate_responses(
        Oracle(song), ["cheby1:order=6,cutoff=10000..12000"], [song], SR, on_step=lambda: steps.append(1)
    )
    responses = training_responses(("cheby1:order=6,cutoff=10000..12000",), SR)
    assert len(result["responses"]) == len(responses)
    assert 0 < len(steps) <= rv.positions_count(["cheby1:order=6,cutoff=10000..12000"], SR)
    for entry, response in zip(result["responses"], responses):
        assert all(p["mean_db"] > 3.0 for p in entry["positions"]), entry  # the band above the edge restored
        assert entry["validated_range_hz"] == pytest.approx(list(response.edge_range_hz), abs=1.0)


def test_the_tool_adds_the_validation_to_an_existing_checkpoint(tmp_path, capsys):
    import soundfile as sf

    from audioenh.checkpoint import load_checkpoint, save_checkpoint, validated_ranges

    from .conftest import music_like, tool_module
    from .test_do_no_harm import checkpoint

    for split in ("train", "val", "test"):
        (tmp_path / "corpus" / split).mkdir(parents=True)
        sf.write(tmp_path / "corpus" / split / "a.flac", (0.3 * music_like(2.0, seed=5)).T, SR, subtype="PCM_24")
    torch.manual_seed(0)
    model = plugins.architectures().create("resnet:preset=tiny,width=8")
    spec = plugins.degradations().canonical("cheby1:6")
    ckpt = {
        **checkpoint(model),
        "degradations": ["cheby1:6"],
        "resolved_degradations": [spec],
        "config": {"data": [str(tmp_path / "corpus")], "precision": "fp32"},
    }
    save_checkpoint(tmp_path / "m.pt", ckpt)
    assert validated_ranges(load_checkpoint(tmp_path / "m.pt")) is None
    with tool_module("validate_responses") as tool:
        assert tool.main([str(tmp_path / "m.pt"), "--device", "cpu", "-q"]) == 0
    assert "training responses validated" in capsys.readouterr().out
    saved = load_checkpoint(tmp_path / "m.pt")
    validation = saved["response_validation"]
    assert validation["rule"] == rv.RULE and validation["songs"] == 1
    assert [r["spec"] for r in validation["responses"]] == [spec]
    (position,) = validation["responses"][0]["positions"]
    assert position["spec"] == spec and np.isfinite(position["mean_db"])
    edge = position["edge_hz"]
    expected = ((spec, edge, edge),) if rv.PositionGain(**position).validated else ()
    assert validated_ranges(saved) == expected


def test_enhance_says_when_validation_left_the_model_nothing_to_restore(song):
    from audioenh.commands.enhance import describe_restoration

    x = plugins.degradations().create("cheby1:6")(song, SR).astype(np.float32)
    plan = plan_restoration(x, SR, SR, ["cheby1:6"], validated_gain_db=0.5, validated_ranges=())
    info = plan.info()
    assert info["validated_responses"] == 0 and info["trust"] == 0.0
    line = describe_restoration(plan.edge_hz, SR / 2, plan.gain, plan.trained, info["mismatch_db"], 0.5, None, 0)
    said = "but the model restored none of its training band limits on its own validation songs"
    assert line.endswith(f"{said}: the input is kept as it is")
    far = plan_restoration(x, SR, SR, ["cheby2:6", "cheby1:6"], validated_ranges=(("cheby2:order=6,x", 0, 0),))
    assert far.info()["validated_responses"] == 0  # a spec it was not trained on does not count
    unvalidated = plan_restoration(x, SR, SR, ["cheby1:6"])
    assert unvalidated.info()["validated_responses"] is None
    line = describe_restoration(11000.0, SR / 2, 0.0, (11500.0, 11500.0), 9.8, None, None, 3)
    assert "differs by 9.8 dB from the closest it restores" in line
    line = describe_restoration(11000.0, SR / 2, 0.0, (11500.0, 11500.0), 9.8, None, None, None)
    assert "differs by 9.8 dB from the closest the model was trained on" in line
