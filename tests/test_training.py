"""Training, resume and testing on a tiny corpus with a tiny model."""

import json
from itertools import islice

import numpy as np
import pytest
import soundfile as sf
import torch
from click.testing import CliRunner

from audioenh.checkpoint import RUN_CHECKPOINT, load_checkpoint, load_model, save_checkpoint
from audioenh.cli import cli
from audioenh.data.chunks import TrainingChunks, batches
from audioenh.data.corpus import resolve_corpus
from audioenh.evaluation.level import LEVEL_KEY, rms_db
from audioenh.plugins import architectures
from audioenh.training.batchnorm import recompute_batchnorm_statistics
from audioenh.training.config import TrainConfig
from audioenh.training.loop import read_records, train
from audioenh.training.schedule import PlateauHalving, decay_factor

from .conftest import SR, music_like


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """train/ (4 songs), val/ (2), test/ (2): 2-s broadband stereo songs at 44.1 kHz."""
    root = tmp_path_factory.mktemp("corpus")
    seed = 0
    for split, count in (("train", 4), ("val", 2), ("test", 2)):
        (root / split).mkdir()
        for i in range(count):
            seed += 1
            sf.write(root / split / f"{split}-{i}.flac", (0.4 * music_like(2.0, seed=seed)).T, SR, subtype="PCM_24")
    return root


def tiny_config(corpus, **overrides):
    options = dict(
        arch=architectures().canonical("resnet:preset=tiny,width=16"),
        degradations=["cheby1:6"],
        data=[str(corpus)],
        iterations=40,
        batch_size=4,
        chunk=1024,
        lr=3e-3,
        record_every=10,
        val_offset=0.5,
        val_seconds=1.0,
        device="cpu",
        workers=0,
        seed=3,
        infer_chunk=8192,
    )
    options.update(overrides)
    return TrainConfig(**options)


def test_plateau_halving():
    schedule = PlateauHalving(1.0, patience=2)
    lrs = [schedule.step(loss) for loss in [5, 4, 4, 4, 3, 3.5, 3.5, 3.5, 3.5]]
    assert lrs == [1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25, 0.125]
    restored = PlateauHalving(9.0)
    restored.load_state_dict(schedule.state_dict())
    assert restored.state_dict() == schedule.state_dict()


def test_cosine_decay_over_the_last_iterations():
    factors = [decay_factor(step, 100, 40) for step in range(100)]
    assert factors[:61] == [1.0] * 61  # constant until step 60, the first of the last 40
    assert factors[80] == pytest.approx(0.5)  # half way down
    assert factors[70] == pytest.approx(0.5 * (1 + np.cos(np.pi / 4)))
    assert 0 < factors[99] < 0.01 and all(a > b for a, b in zip(factors[60:], factors[61:]))
    assert decay_factor(99, 100, 0) == 1.0 and decay_factor(5, 100, 200) < 1.0


def test_lr_decay_reaches_the_records_and_survives_a_resume(corpus, tmp_path):
    """A run decaying over its last 20 of 40 iterations records the decayed lr; stopped at 25 and
    resumed, it follows the same curve as the run that never stopped."""
    full = tmp_path / "full"
    train(tiny_config(corpus, lr_decay=20), full, progress=False)
    lrs = [r["lr"] for r in read_records(full)]
    assert lrs[:2] == [3e-3, 3e-3]  # records at 10 and 20 report the lr of steps 9 and 19
    assert lrs[2] == pytest.approx(3e-3 * decay_factor(29, 40, 20)) and lrs[3] < 1e-4
    interrupted = tmp_path / "interrupted"
    train(tiny_config(corpus, lr_decay=20), interrupted, progress=False, stop_after=25)
    train(None, interrupted, resume=True, progress=False)
    np.testing.assert_allclose(
        [r["loss"] for r in read_records(interrupted)], [r["loss"] for r in read_records(full)], rtol=1e-6
    )
    constant = tmp_path / "constant"  # a constant run resumed with a longer decaying end: the same curve
    train(tiny_config(corpus, iterations=20), constant, progress=False)
    train(None, constant, resume=True, overrides={"iterations": 40, "lr_decay": 20}, progress=False)
    np.testing.assert_allclose(
        [r["loss"] for r in read_records(constant)], [r["loss"] for r in read_records(full)], rtol=1e-6
    )


def test_batchnorm_statistics_are_the_mean_of_the_batch_statistics():
    """Hand computation: each layer's running mean is the mean over batches of the per-batch channel
    means, its variance the mean of the unbiased per-batch variances; dropout off; nothing else moves."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv1d(2, 3, 5), torch.nn.BatchNorm1d(3), torch.nn.Dropout(0.5))
    model.train()
    inputs = [torch.randn(4, 2, 64) * (i + 1) + i for i in range(3)]
    weights = [p.clone() for p in model.parameters()]
    rng = torch.get_rng_state()
    assert recompute_batchnorm_statistics(model, inputs, "fp32", torch.device("cpu")) == 3
    with torch.no_grad():
        conv = [model[0](x) for x in inputs]
    mean = torch.stack([c.mean(dim=(0, 2)) for c in conv]).mean(0)
    var = torch.stack([c.transpose(0, 1).reshape(3, -1).var(dim=1, unbiased=True) for c in conv]).mean(0)
    torch.testing.assert_close(model[1].running_mean, mean, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(model[1].running_var, var, rtol=1e-5, atol=1e-6)
    assert model.training and model[1].training and model[1].momentum == 0.1
    assert torch.equal(torch.get_rng_state(), rng)  # no dropout mask was drawn
    assert all(torch.equal(a, b) for a, b in zip(weights, model.parameters()))
    assert recompute_batchnorm_statistics(torch.nn.Conv1d(2, 3, 5), inputs, "fp32", torch.device("cpu")) == 0


def test_batchnorm_recompute_changes_no_training_and_survives_a_resume(corpus, tmp_path):
    """With --bn-batches the loss curve and weights are those of a run without it; only the BN
    statistics differ, and they are the recompute over the last batches before the final record,
    equal after a resume."""
    arch = architectures().canonical("resnet:preset=tiny,width=16,batchnorm=true")
    plain, precise, resumed = tmp_path / "plain", tmp_path / "precise", tmp_path / "resumed"
    train(tiny_config(corpus, arch=arch, bn_batches=0), plain, progress=False)
    train(tiny_config(corpus, arch=arch, bn_batches=5), precise, progress=False)
    train(tiny_config(corpus, arch=arch, bn_batches=5), resumed, progress=False, stop_after=25)
    train(None, resumed, resume=True, progress=False)
    np.testing.assert_allclose(
        [r["loss"] for r in read_records(precise)], [r["loss"] for r in read_records(plain)], rtol=1e-6
    )
    a, b, c = (load_checkpoint(run)["model"] for run in (plain, precise, resumed))
    stats = [k for k in a if k.endswith(("running_mean", "running_var"))]
    assert stats and all(torch.equal(a[k], b[k]) for k in a if k not in stats and "num_batches" not in k)
    assert all(not torch.allclose(a[k], b[k]) for k in stats)
    assert all(torch.equal(b[k], c[k]) for k in b)
    config = tiny_config(corpus, arch=arch).resolve()
    dataset = TrainingChunks(
        resolve_corpus([str(corpus)], progress=False).train,
        config.resolved_degradations,
        chunk=config.chunk,
        seed=config.seed,
        range_group=config.range_group,
    )
    last = [d for it, d, _ in islice(batches(dataset, config.batch_size, start_iteration=35), 5)]
    model, _ = load_model(precise)
    recompute_batchnorm_statistics(model, last, "fp32", torch.device("cpu"))
    for k in stats:
        torch.testing.assert_close(model.state_dict()[k], b[k], rtol=1e-5, atol=1e-7)


def test_training_loss_falls_and_run_dir_is_complete(corpus, tmp_path):
    run = tmp_path / "run"
    last = train(tiny_config(corpus, iterations=60, record_every=20), run, progress=False)
    records = read_records(run)
    assert [r["iteration"] for r in records] == [20, 40, 60]
    assert records[-1]["loss"] < records[0]["loss"]
    assert last == records[-1]
    for before, r in zip([None, *records], records):
        assert set(r) >= {"iteration", "loss", "lr", "val", "train_its"}
        # steps per second of training alone: the interval's wall time includes validating and saving
        elapsed = r["seconds"] - (before["seconds"] if before else 0.0)
        assert r["train_its"] >= 20 / elapsed * 0.999
        assert set(r["val"]) == {"seen", "butter:6"}
        assert set(r["val"]["seen"]) == {"input", "output"}
        assert 0 < r["val"]["seen"]["input"] < 30  # cheby1:6 removes the test signal's 14 and 19 kHz tones
    config = json.loads((run / "config.json").read_text())
    assert config["arch"].startswith("resnet:preset=tiny") and config["degradations"] == ["cheby1:6"]
    state = load_checkpoint(run)  # weights_only=True inside
    assert state["iteration"] == 60 and state["arch"] == config["arch"]
    # the end of training validated which training responses the network restores (safe mode's trust)
    from audioenh.evaluation.response_validation import RULE

    validation = state["response_validation"]
    assert validation["rule"] == RULE and validation["songs"] == 2
    (response,) = validation["responses"]
    assert response["spec"] == state["resolved_degradations"][0] and len(response["positions"]) == 1
    assert np.isfinite(response["positions"][0]["mean_db"])
    model, _ = load_model(run)
    assert sum(p.numel() for p in model.parameters()) == sum(
        p.numel() for p in architectures().create(config["arch"]).parameters()
    )


def test_a_diverged_run_stops_with_one_line_and_saves_nothing(corpus, tmp_path, monkeypatch):
    """The loss is summed on the device and read every LOSS_CHECK_EVERY steps (no wait for a GPU at
    every step): a non-finite loss stops the run at the next read, naming the iterations."""
    from audioenh.errors import AudioenhError
    from audioenh.training import loop

    steps = []

    def diverging_step(*args, **kwargs):
        steps.append(1)
        return torch.tensor(float("nan") if len(steps) == 5 else 1.0)

    monkeypatch.setattr(loop, "train_step", diverging_step)
    run = tmp_path / "run"
    with pytest.raises(AudioenhError, match=f"diverged within iterations 1-{loop.LOSS_CHECK_EVERY} "):
        train(tiny_config(corpus, iterations=100, record_every=50), run, progress=False)
    assert len(steps) == loop.LOSS_CHECK_EVERY and not (run / RUN_CHECKPOINT).exists()


def test_resume_continues_the_same_loss_curve(corpus, tmp_path):
    full = tmp_path / "full"
    train(tiny_config(corpus), full, progress=False)
    interrupted = tmp_path / "interrupted"
    train(tiny_config(corpus), interrupted, progress=False, stop_after=25)  # killed between records
    assert [r["iteration"] for r in read_records(interrupted)] == [10, 20]
    train(None, interrupted, resume=True, progress=False)
    a, b = read_records(full), read_records(interrupted)
    assert [r["iteration"] for r in b] == [10, 20, 30, 40]
    np.testing.assert_allclose([r["loss"] for r in b], [r["loss"] for r in a], rtol=1e-6)
    np.testing.assert_allclose(
        [r["val"]["seen"]["output"] for r in b], [r["val"]["seen"]["output"] for r in a], rtol=1e-5
    )


def test_resume_drops_records_newer_than_the_checkpoint(corpus, tmp_path):
    run = tmp_path / "run"
    train(tiny_config(corpus, iterations=20), run, progress=False)
    with open(run / "metrics.jsonl", "a") as f:  # a record written just before a kill
        f.write(json.dumps({"iteration": 30, "loss": 1.0}) + "\n")
    train(None, run, resume=True, overrides={"iterations": 30}, progress=False)
    assert [r["iteration"] for r in read_records(run)] == [10, 20, 30]
    assert read_records(run)[-1]["loss"] != 1.0


def run_cli(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def one_line_error(result, fragment):
    assert result.exit_code != 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and fragment in lines[0], result.output


TRAIN_ARGS = [
    "--batch-size",
    4,
    "--chunk",
    1024,
    "--record-every",
    10,
    "--val-offset",
    0.5,
    "--val-seconds",
    1,
    "--workers",
    0,
    "--device",
    "cpu",
    "--quiet",
]


def test_train_and_test_through_the_cli(corpus, tmp_path):
    run = tmp_path / "run"
    result = run_cli(
        "train",
        "--arch",
        "resnet:preset=tiny",
        "--degrade",
        "paper-multi",
        "--unseen",
        "butter:6",
        "--data",
        corpus,
        "--output",
        run,
        "--iterations",
        20,
        "--lr",
        1e-3,
        *TRAIN_ARGS,
    )
    assert result.exit_code == 0, result.output
    assert json.loads((run / "config.json").read_text())["degradations"][:2] == ["cheby1:6", "cheby1:8"]
    assert len(read_records(run)) == 2
    # the network runs at the training songs' mean level (their RMS in dBFS; 2-s songs: all of each)
    songs = sorted((corpus / "train").glob("*.flac"))
    mean_level = np.mean([rms_db(sf.read(path, dtype="float32", always_2d=True)[0].T) for path in songs])
    assert json.loads((run / "config.json").read_text())["input_level"] == "auto"
    assert load_checkpoint(run)[LEVEL_KEY] == pytest.approx(mean_level, abs=1e-4)

    # extending a finished run
    result = run_cli("train", "--output", run, "--resume", "--iterations", 30, "--quiet", "--workers", 0)
    assert result.exit_code == 0, result.output
    assert [r["iteration"] for r in read_records(run)] == [10, 20, 30]
    # the curves drawn when it ended: every record's loss and each group's validation gain
    from audioenh.reports.figures import training_curves

    assert (run / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and "curves: " in result.output
    records = read_records(run)
    drawn = training_curves(tmp_path / "curves.svg", records, "run")
    assert drawn["iterations"] == [10, 20, 30] and drawn["loss"] == [r["loss"] for r in records]
    for group in ("seen", "butter:6"):
        gains = [(r["iteration"], r["val"][group]["output"] - r["val"][group]["input"]) for r in records]
        assert drawn["gains_db"][group] == gains

    result = run_cli(
        "test",
        run,
        "--degrade",
        "cheby1:6",
        "--degrade",
        "butter:6",
        "--metric",
        "snr",
        "--metric",
        "lsd",
        "--json",
        "--device",
        "cpu",
        "--csv",
        tmp_path / "t.csv",
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [d["degradation"] for d in data] == ["cheby1:6", "butter:6"]
    for d in data:
        assert d["split"] == "test" and d["checkpoint"].endswith("last.pt")
        assert [s["name"] for s in d["songs"]] == ["test-0", "test-1"]
        for song in d["songs"]:
            assert set(song["input"]) == set(song["output"]) == {"snr", "lsd"}
        for m in ("snr", "lsd"):
            assert d["mean"]["input"][m] == pytest.approx(np.mean([s["input"][m] for s in d["songs"]]))
            assert d["mean"]["delta"][m] == pytest.approx(d["mean"]["output"][m] - d["mean"]["input"][m])
    rows = (tmp_path / "t.csv").read_text().splitlines()
    assert rows[0] == "degradation,song,metric,input,output,delta" and len(rows) == 1 + 2 * (2 * 2 + 2)


def test_identity_model_reproduces_the_input_in_test(corpus, tmp_path):
    model = architectures().create("resnet:preset=tiny")
    with torch.no_grad():
        model.tail.weight.zero_()
        model.tail.bias.zero_()
    path = tmp_path / "identity.pt"
    save_checkpoint(
        path,
        {
            "arch": "resnet:preset=tiny",
            "sample_rate": SR,
            "audio_channels": 2,
            "degradations": ["cheby1:6"],
            "model": model.state_dict(),
        },
    )
    result = run_cli(
        "test", path, "-d", "cheby1:6", "--data", corpus, "--json", "--device", "cpu", "-m", "snr", "-m", "lsd"
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    for song in data["songs"]:
        assert song["output"]["snr"] == pytest.approx(song["input"]["snr"], abs=1e-4)
    assert data["mean"]["delta"]["snr"] == pytest.approx(0.0, abs=1e-4)


@pytest.mark.parametrize("request_, level", [("none", None), ("-20", -20.0)])
def test_input_level_none_or_given(corpus, tmp_path, request_, level):
    run = tmp_path / "run"
    args = ["--arch", "resnet:preset=tiny", "-d", "cheby1:6", "--data", corpus, "--output", run]
    result = run_cli("train", *args, "--iterations", 10, "--input-level", request_, *TRAIN_ARGS)
    assert result.exit_code == 0, result.output
    assert load_checkpoint(run).get(LEVEL_KEY) == level
    assert getattr(load_model(run)[0], LEVEL_KEY) == level  # what test, enhance and matrix run it at
    refused = run_cli("train", "--output", run, "--resume", "--iterations", 20, "--input-level", "auto", "--quiet")
    assert refused.exit_code == 2 and "--input-level cannot change when resuming" in refused.output
    bad = run_cli("train", *args[:-1], tmp_path / "r2", "--input-level", "loud", *TRAIN_ARGS)
    one_line_error(bad, "--input-level must be auto, none or a level in dBFS from -80 to 0; got 'loud'")


def test_cli_refusals(corpus, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "x").write_text("occupied")
    one_line_error(
        run_cli(
            "train", "--arch", "resnet:preset=tiny", "-d", "cheby1:6", "--data", corpus, "--output", run, *TRAIN_ARGS
        ),
        "already holds files",
    )
    one_line_error(
        run_cli("train", "--arch", "resnett", "-d", "cheby1:6", "--output", tmp_path / "r2", *TRAIN_ARGS),
        "unknown architecture 'resnett'",
    )
    one_line_error(
        run_cli("train", "--arch", "resnet", "-d", "cheby1:6,", "--output", tmp_path / "r3", *TRAIN_ARGS),
        "malformed spec",
    )
    one_line_error(run_cli("train", "--output", tmp_path / "none", "--resume", "--quiet"), "holds no training run")
    one_line_error(
        run_cli(
            "train",
            "--arch",
            "resnet:preset=tiny",
            "-d",
            "cheby1:6",
            "--data",
            tmp_path / "nothing",
            "--output",
            tmp_path / "r4",
            *TRAIN_ARGS,
        ),
        "nothing",
    )
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(np.random.default_rng(0).bytes(2000))
    one_line_error(run_cli("test", corrupt, "-d", "cheby1:6", "--data", corpus), "cannot load checkpoint")
    one_line_error(run_cli("test", tmp_path / "missing.pt", "-d", "cheby1:6", "--data", corpus), "no such file")


def test_a_run_that_cannot_start_leaves_no_folder_and_the_fixed_command_trains(corpus, tmp_path):
    """A new run whose data or network cannot be set up (checked after its config is written) removes
    what it wrote, so the same command with the mistake fixed starts it; a folder that was there empty
    stays, empty."""
    run = tmp_path / "run"
    args = ["-d", "cheby1:6", "--output", run, "--iterations", 10, *TRAIN_ARGS]
    one_line_error(run_cli("train", "--arch", "resnet:preset=tiny", "--data", tmp_path / "nothing", *args), "nothing")
    assert not run.exists()
    one_line_error(run_cli("train", "--arch", "resnet:width=-3", "--data", corpus, *args), "width must be")
    assert not run.exists()
    run.mkdir()
    one_line_error(run_cli("train", "--arch", "resnet:width=-3", "--data", corpus, *args), "width must be")
    assert run.is_dir() and not any(run.iterdir())
    result = run_cli("train", "--arch", "resnet:preset=tiny", "--data", corpus, *args)
    assert result.exit_code == 0, result.output
    assert [r["iteration"] for r in read_records(run)] == [10]


def test_train_test_enhance_in_real_subprocesses(corpus, tmp_path):
    """The README's walk-through, through the console entry point."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, AUDIOENH_NO_PLUGINS="1")

    def console(*args):
        return subprocess.run(
            [sys.executable, "-m", "audioenh", *map(str, args)], capture_output=True, text=True, env=env, timeout=300
        )

    run = tmp_path / "run"
    trained = console(
        "train",
        "--arch",
        "resnet:preset=tiny",
        "--degrade",
        "cheby1:6",
        "--data",
        corpus,
        "--output",
        run,
        "--iterations",
        10,
        *TRAIN_ARGS,
    )
    assert trained.returncode == 0, trained.stderr
    tested = console("test", run, "--degrade", "butter:6", "--json", "--device", "cpu")
    assert tested.returncode == 0, tested.stderr
    assert json.loads(tested.stdout)["degradation"] == "butter:6"
    song = corpus / "test" / "test-0.flac"
    out = tmp_path / "restored.wav"
    enhanced = console("enhance", run, song, "-o", out, "--device", "cpu")
    assert enhanced.returncode == 0, enhanced.stderr
    assert sf.info(out).frames == sf.info(song).frames and sf.info(out).samplerate == SR
    refused = console("enhance", run, song, "-o", song)
    assert refused.returncode == 1 and refused.stderr.strip().count("\n") == 0 and "Error:" in refused.stderr


# -- the band-weighted loss ---------------------------------------------------------------------
def test_band_weighted_mse_by_hand_and_equal_to_the_mse_at_weight_one():
    from audioenh.training.step import band_weighted_mse

    n, a, b = 2048, 0.3, 0.2
    t = torch.arange(n, dtype=torch.float64)
    low, high = 46, 700  # bins at 990 Hz and 15073 Hz (44.1 kHz / 2048 per bin)
    error = a * torch.cos(2 * torch.pi * low * t / n) + b * torch.cos(2 * torch.pi * high * t / n)
    zero = torch.zeros(n, dtype=torch.float64)
    assert float(band_weighted_mse(error, zero, SR, 9000.0, 0.1)) == pytest.approx(0.1 * a * a / 2 + b * b / 2)
    assert float(band_weighted_mse(error, zero, SR, 9000.0, 0.0)) == pytest.approx(b * b / 2)
    assert float(band_weighted_mse(error, zero, SR, 500.0, 0.0)) == pytest.approx(a * a / 2 + b * b / 2)
    torch.manual_seed(0)
    for length in (2048, 2047):  # even: a Nyquist bin; odd: none
        x, y = torch.randn(3, 2, length), torch.randn(3, 2, length)
        mse = float(torch.nn.functional.mse_loss(x, y))
        assert float(band_weighted_mse(x, y, SR, 9000.0, 0.9999999)) == pytest.approx(mse, rel=1e-5)
        assert float(band_weighted_mse(x, y, SR, None, 0.1)) == mse  # no split: the MSE itself


def test_the_band_loss_is_a_fixed_setting_of_the_run(corpus, tmp_path):
    run = tmp_path / "run"
    args = ["train", "--arch", "resnet:preset=tiny", "--degrade", "cheby1:6", "--data", corpus, "--output", run]
    refused = run_cli(*args, "--iterations", 10, "--loss-below-weight", 0.5, *TRAIN_ARGS)
    assert refused.exit_code == 2 and "--loss-below-weight needs --loss-split HZ" in refused.output
    done = run_cli(*args, "--iterations", 10, "--loss-split", 9000, "--loss-below-weight", 0.1, *TRAIN_ARGS)
    assert done.exit_code == 0, done.output
    config = json.loads((run / "config.json").read_text())
    assert config["loss_split_hz"] == 9000.0 and config["loss_below_weight"] == 0.1
    changed = run_cli("train", "--output", run, "--resume", "--iterations", 20, "--loss-split", 8000)
    assert changed.exit_code == 2 and "--loss-split cannot change when resuming" in changed.output
    assert TrainConfig.from_dict({k: v for k, v in config.items() if not k.startswith("loss_")}).loss_split_hz is None


def test_adam_is_fused_on_cuda_only_and_a_resumed_state_keeps_this_devices_choice():
    """training.step.adam: fused on CUDA (one kernel for all parameters), PyTorch's default elsewhere;
    a state dict carries its own flag, so a run started on a GPU and resumed on a CPU keeps the CPU's."""
    from audioenh.training.step import adam, load_adam_state

    params = [torch.nn.Parameter(torch.randn(3))]
    assert adam(params, "cpu", lr=1e-3).param_groups[0]["fused"] is None
    started_on_gpu = torch.optim.Adam(params, lr=1e-3, fused=True)  # the flag a CUDA run saves
    params[0].grad = torch.ones(3)
    started_on_gpu.step()
    resumed = adam(params, "cpu", lr=1e-3)
    load_adam_state(resumed, started_on_gpu.state_dict(), "cpu")
    assert resumed.param_groups[0]["fused"] is None
    assert torch.equal(resumed.state_dict()["state"][0]["exp_avg"], started_on_gpu.state_dict()["state"][0]["exp_avg"])
    load_adam_state(resumed, started_on_gpu.state_dict(), torch.device("cuda"))  # no step: no GPU needed
    assert resumed.param_groups[0]["fused"] is True


def test_a_compiled_run_trains_like_an_eager_one_and_may_resume_eager(corpus, tmp_path):
    """train --compile: the training steps through torch.compile (validation and checkpoints use the
    plain module: no `_orig_mod.` keys); the same loss curve as eager to float rounding; a setting a
    resume may change."""
    eager, compiled = tmp_path / "eager", tmp_path / "compiled"
    train(tiny_config(corpus, iterations=20), eager, progress=False)
    train(tiny_config(corpus, iterations=20, compile_mode="default"), compiled, progress=False)
    a, b = read_records(eager), read_records(compiled)
    np.testing.assert_allclose([r["loss"] for r in b], [r["loss"] for r in a], rtol=1e-2)
    assert abs(b[-1]["val"]["seen"]["output"] - a[-1]["val"]["seen"]["output"]) < 0.05
    assert json.loads((compiled / "config.json").read_text())["compile_mode"] == "default"
    model, _ = load_model(compiled)  # plain keys
    assert not any(k.startswith("_orig_mod") for k in load_checkpoint(compiled)["model"])
    result = CliRunner().invoke(
        cli, ["train", "--output", str(compiled), "--resume", "--iterations", "30", "--compile", "off", "-q"]
    )
    assert result.exit_code == 0, result.output
    assert [r["iteration"] for r in read_records(compiled)] == [10, 20, 30]
    assert json.loads((compiled / "config.json").read_text())["compile_mode"] == "off"


def test_train_conv_native_keeps_pytorchs_convolutions(corpus, tmp_path, monkeypatch):
    """``train --conv native`` (less memory than the FFT form) runs every convolution as PyTorch's, where
    the rule (here made to take the tiny ResNet's 16-channel 3-tap convolutions) would use the FFT form."""
    from audioenh.architectures import fft_conv, layers

    monkeypatch.setattr(layers, "FFT_MIN_KERNEL", 3)
    monkeypatch.setattr(layers, "FFT_SHORT_KERNEL_MIN_CHANNELS", 1)
    monkeypatch.setattr(layers, "FFT_SHORT_KERNEL_TRAINING_MIN_CHANNELS", 1)
    calls = []
    monkeypatch.setattr(layers, "conv1d_as_fft", lambda *a, **k: calls.append(1) or fft_conv.conv1d_as_fft(*a, **k))
    counts = {}
    for conv in ("auto", "native"):
        calls.clear()
        args = ["train", "--arch", "resnet:preset=tiny", "--degrade", "cheby1:6", "--data", corpus]
        result = run_cli(*args, "--output", tmp_path / conv, "--iterations", 10, "--conv", conv, *TRAIN_ARGS)
        assert result.exit_code == 0, result.output
        counts[conv] = len(calls)
    assert counts["auto"] > 0 and counts["native"] == 0
    assert layers._FORCED["conv"] == "auto"  # the command's choice ends with it
