"""audioenh benchmark: every figure present, consistent with its definition (tiny model, short timings)."""

import json

import pytest
import torch
from click.testing import CliRunner

from audioenh.architectures import count_macs
from audioenh.cli import cli
from audioenh.evaluation.blocks import CUDA_BATCH, DEFAULT_BATCH
from audioenh.plugins import architectures


@pytest.fixture(scope="module")
def measured():
    args = ["benchmark", "--arch", "resnet:preset=tiny", "--device", "cpu", "--precision", "fp32"]
    args += ["--batch-size", "2", "--chunk", "1024", "--seconds", "0.2", "--audio-seconds", "0.5"]
    args += ["-d", "cheby1:6", "--data", "builtin:songs=3,seconds=2", "--workers", "0", "--json"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout[result.stdout.index("{") :])


def test_every_figure_is_there_and_positive(measured):
    for key in (
        "bare_step_its",
        "pipeline_its",
        "data_batches_per_s",
        "runtime_rate",
        "bare_forward_rate",
        "bare_step_tflops",
        "inference_tflops",
    ):
        assert measured[key] > 0, key
    assert measured["precision"] == "fp32" and measured["device"] == "cpu"
    assert measured["pipeline_degradation"] == "cheby1:6" and measured["pipeline_workers"] == 0
    # the data alone (cut from cached whole songs) is faster than any step it feeds
    assert measured["data_batches_per_s"] > measured["pipeline_its"]
    assert measured["peak_memory_bytes"] > 50 * 2**20  # the process holds torch at least
    assert measured["training_layout"] == measured["inference_layout"] == "channels-last"  # 8 channels on the CPU
    assert measured["enhance_batch"] == DEFAULT_BATCH  # enhance's --batch-size on a CPU


def test_the_runtime_rate_runs_enhance_with_the_blocks_per_pass_asked_for(monkeypatch):
    """--enhance-batch: the runtime rate with that many blocks per forward pass (enhance's --batch-size;
    by default enhance's own for the device: more on a GPU, where it was measured faster)."""
    from audioenh import benchmark
    from audioenh.evaluation.blocks import default_enhance_batch

    seen = []
    enhance = benchmark.enhance_array
    monkeypatch.setattr(benchmark, "enhance_array", lambda *a, **k: seen.append(k["batch_size"]) or enhance(*a, **k))
    args = ["benchmark", "--arch", "resnet:preset=tiny", "--device", "cpu", "--precision", "fp32", "--batch-size"]
    args += ["2", "--chunk", "1024", "--seconds", "0.1", "--audio-seconds", "0.5", "--json"]
    for asked, expected in ((None, DEFAULT_BATCH), (7, 7)):
        seen.clear()
        result = CliRunner().invoke(cli, args + ([] if asked is None else ["--enhance-batch", str(asked)]))
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout[result.stdout.index("{") :])["enhance_batch"] == expected
        assert seen == [expected, expected]  # the warm-up and the timed pass
    assert (default_enhance_batch("cpu"), default_enhance_batch(torch.device("cuda:1"))) == (DEFAULT_BATCH, CUDA_BATCH)
    assert CUDA_BATCH > DEFAULT_BATCH


def test_layout_follows_the_measured_widths():
    from audioenh.benchmark import memory_layout

    cpu = torch.device("cpu")
    with torch.device("meta"):
        resnet, unet = (architectures().create(f"{a}:preset=paper") for a in ("resnet", "unet"))
    assert (memory_layout(resnet, cpu, True), memory_layout(resnet, cpu, False)) == ("pytorch", "channels-last")
    assert memory_layout(unet, cpu, False) == "pytorch"
    assert memory_layout(torch.nn.Conv1d(2, 2, 3), cpu, False) == "pytorch"  # no declared width


def test_a_forced_layout_is_measured_and_reported():
    """--layout runs the networks in the layout asked for, e.g. PyTorch's where the rule picks channels-last."""
    args = ["benchmark", "--arch", "resnet:preset=tiny", "--device", "cpu", "--precision", "fp32", "--layout"]
    args += ["pytorch", "--batch-size", "2", "--chunk", "1024", "--seconds", "0.1", "--audio-seconds", "0.5"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "memory layout   pytorch in training, pytorch in inference" in result.output
    bad = CliRunner().invoke(cli, [*args[:8], "nhwc"])
    assert bad.exit_code == 2 and "'nhwc' is not one of" in bad.output


def test_a_forced_conv_is_measured_and_reported(monkeypatch):
    """--conv gemm computes the long kernels as one matrix product (PyTorch's layout), and says so."""
    from audioenh.architectures import layers

    calls = []
    gemm = layers.conv1d_as_gemm
    monkeypatch.setattr(layers, "conv1d_as_gemm", lambda x, w, *a: calls.append(w.shape[-1]) or gemm(x, w, *a))
    args = ["benchmark", "--arch", "unet:width=4,depth=3,kernel=33,max_channels=16", "--device", "cpu"]
    args += ["--precision", "fp32", "--layout", "pytorch", "--conv", "gemm", "--batch-size", "2", "--chunk", "1024"]
    args += ["--seconds", "0.1", "--audio-seconds", "0.5"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "convolutions    gemm for kernels of 17 taps or more" in result.output
    assert calls and min(calls) >= layers.GEMM_MIN_KERNEL
    as_json = CliRunner().invoke(cli, [*args, "--json"])
    assert json.loads(as_json.stdout[as_json.stdout.index("{") :])["conv"] == "gemm"
    ffts = []
    fft = layers.conv1d_as_fft
    monkeypatch.setattr(layers, "conv1d_as_fft", lambda x, w, *a, **k: ffts.append(w.shape[-1]) or fft(x, w, *a, **k))
    forced_fft = CliRunner().invoke(cli, [*args, "--conv", "fft"])  # the last --conv counts
    assert forced_fft.exit_code == 0, forced_fft.output
    assert f"convolutions    fft for kernels of {layers.FFT_MIN_KERNEL} taps or more" in forced_fft.output
    assert ffts and min(ffts) >= layers.FFT_MIN_KERNEL
    bad = CliRunner().invoke(cli, [*args, "--conv", "winograd"])
    assert bad.exit_code == 2 and "'winograd' is not one of" in bad.output


def test_the_commands_choices_are_the_layers_own():
    """The command lists its choices without importing torch at start-up: they must stay the layers'."""
    from audioenh.architectures import layers
    from audioenh.commands.benchmark import benchmark

    choices = {p.name: list(p.type.choices) for p in benchmark.params if p.name in ("layout", "conv")}
    assert choices == {"layout": list(layers.LAYOUTS), "conv": list(layers.CONV_IMPLEMENTATIONS)}
    conv_help = next(p.help for p in benchmark.params if p.name == "conv")
    assert f"{layers.GEMM_MIN_KERNEL} taps or more" in conv_help


def test_flops_follow_the_mac_count(measured):
    macs = count_macs(lambda: architectures().create("resnet:preset=tiny"), batch=2, samples=1024)
    assert measured["macs_per_step"] == macs
    assert measured["bare_step_tflops"] == pytest.approx(6 * macs * measured["bare_step_its"] / 1e12)
    per_audio_second = macs / (2 * 1024) * 44100
    assert measured["inference_tflops"] == pytest.approx(2 * per_audio_second / measured["runtime_rate"] / 1e12)


def test_text_output_and_refusals():
    args = ["benchmark", "--arch", "unet:preset=tiny", "--device", "cpu", "--seconds", "0.1", "--audio-seconds", "0.3"]
    result = CliRunner().invoke(cli, [*args, "--batch-size", "1", "--chunk", "512"])
    assert result.exit_code == 0, result.output
    assert "training step" in result.output and "runtime rate" in result.output and "x real time" in result.output
    assert "bare forward" in result.output and "data alone" not in result.output
    assert f"{DEFAULT_BATCH} blocks per pass" in result.output
    fed = CliRunner().invoke(
        cli, [*args, "--batch-size", "1", "--chunk", "512", "-d", "cheby1:6", "--data", "builtin:songs=3,seconds=2"]
    )
    assert fed.exit_code == 0, fed.output
    assert "% of the bare step" in fed.output and "ms per batch; the bare step takes" in fed.output
    bad = CliRunner().invoke(cli, ["benchmark", "--arch", "resnett"])
    assert bad.exit_code == 1 and "unknown architecture 'resnett'" in bad.output
    fp16 = CliRunner().invoke(
        cli, ["benchmark", "--arch", "resnet:preset=tiny", "--device", "cpu", "--precision", "fp16"]
    )
    assert fp16.exit_code == 1 and "fp16 needs a CUDA GPU" in fp16.output


def test_bare_and_fed_steps_are_timed_in_alternating_rounds():
    """With --degrade, the two training measurements alternate (4 rounds), so a machine whose speed
    drifts slows both alike; each rate is its calls over its own time, summed over the rounds."""
    import time

    import torch

    from audioenh.benchmark import ROUNDS, interleaved_rates

    order = []

    def sleeper(name, seconds):
        def step():
            order.append(name)
            time.sleep(seconds)

        return step

    rates = interleaved_rates(
        {"bare": sleeper("bare", 0.004), "pipeline": sleeper("pipeline", 0.012)}, torch.device("cpu"), 0.4
    )
    switches = [i for i in range(1, len(order)) if order[i] != order[i - 1]]
    assert len(switches) == 2 * ROUNDS - 1 and order[0] == "bare"
    assert 100 < rates["bare"] <= 250 and 30 < rates["pipeline"] <= 84  # sleeping may overshoot, never undershoot
    assert 0.2 < rates["pipeline"] / rates["bare"] < 0.5  # a third, give or take the overshoot


def test_inference_timings_warm_up_on_the_timed_shape_on_cuda():
    """cuDNN's autotuner times kernels on a shape's first call: on CUDA the warm-up is the whole excerpt
    (a half-second warm-up left the search in the timing: 0.26 instead of 0.0040 s per s on an H200)."""
    import torch

    from audioenh.benchmark import _warm_up_length

    assert _warm_up_length(torch.device("cuda"), 441000, 44100) == 441000
    assert _warm_up_length(torch.device("cpu"), 441000, 44100) == 22050
    assert _warm_up_length(torch.device("cpu"), 1000, 44100) == 1000
