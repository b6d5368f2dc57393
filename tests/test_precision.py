"""--precision: the rule behind auto, autocast, and runs that keep what they started with."""

import numpy as np
import pytest
import torch

from audioenh import plugins, precision
from audioenh.errors import AudioenhError
from audioenh.evaluation.inference import enhance_array
from audioenh.precision import autocast, resolve_precision


@pytest.mark.parametrize("native", [True, False])
def test_auto_on_the_cpu_is_bf16_only_for_the_unet_with_native_bfloat16(monkeypatch, native):
    monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda: native)
    assert resolve_precision("auto", "cpu", "unet:preset=tiny") == ("bf16" if native else "fp32")
    for arch in ("resnet", "resnet:preset=small", "example-conv", None):  # bf16 ruins the ResNet; others unmeasured
        assert resolve_precision("auto", "cpu", arch) == "fp32"
    assert resolve_precision("fp32", "cpu", "unet") == "fp32"
    assert resolve_precision("bf16", "cpu", "resnet") == "bf16"  # asked for: allowed, even if emulated


def test_auto_on_cuda_is_bf16_only_for_the_unet_on_gpus_with_bfloat16(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    assert resolve_precision("auto", "cuda", "resnet:preset=small") == "fp32"
    # its long kernels as GEMMs or polyphase (conv_implementation)
    assert resolve_precision("auto", "cuda", "unet") == "bf16"
    assert resolve_precision("auto", "cuda", "example-conv") == "fp32"
    assert resolve_precision("fp16", "cuda", "unet") == "fp16"
    assert resolve_precision("bf16", "cuda", "resnet") == "bf16"
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)
    assert resolve_precision("auto", "cuda", "unet") == "fp32"  # e.g. a pre-Ampere GPU
    with pytest.raises(AudioenhError, match="no bfloat16"):
        resolve_precision("bf16", "cuda", "resnet")


def test_refusals():
    with pytest.raises(AudioenhError, match="fp16 needs a CUDA GPU"):
        resolve_precision("fp16", "cpu", "resnet")
    with pytest.raises(AudioenhError, match="unknown precision 'fp8'"):
        resolve_precision("fp8", "cpu", "resnet")


def test_autocast_runs_convolutions_in_bfloat16_and_enhance_stays_close_to_fp32():
    torch.manual_seed(0)
    model = plugins.architectures().create("resnet:preset=tiny,width=16").eval()
    x = torch.randn(1, 2, 512) * 0.1
    conv = model.blocks[0].body[0]  # the blocks' convolutions run in bf16 (head and tail stay float32)
    with torch.no_grad(), autocast("bf16", "cpu"):
        assert conv(model.head(x)).dtype == torch.bfloat16
    with torch.no_grad(), autocast("fp32", "cpu"):
        assert conv(model.head(x)).dtype == torch.float32
    audio = (np.random.default_rng(0).standard_normal((2, 5000)) * 0.1).astype(np.float32)
    fp32 = enhance_array(model, audio, chunk=1024)
    bf16 = enhance_array(model, audio, chunk=1024, precision="bf16")
    assert bf16.dtype == np.float32 and bf16.shape == audio.shape
    snr = 10 * np.log10(np.sum(fp32**2) / np.sum((fp32 - bf16) ** 2))
    assert snr > 30 and np.any(fp32 != bf16)  # close to fp32, yet really computed in bfloat16


def test_a_run_stores_its_resolved_precision_and_keeps_it(tmp_path, monkeypatch):
    import json

    import soundfile as sf
    from click.testing import CliRunner

    from audioenh.cli import cli

    from .conftest import SR, music_like

    for split, count in (("train", 2), ("val", 1)):
        (tmp_path / "c" / split).mkdir(parents=True)
        for i in range(count):
            sf.write(tmp_path / "c" / split / f"{i}.wav", (0.3 * music_like(1.5, seed=i)).T, SR)
    monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda: True)
    args = ["--arch", "unet:preset=tiny", "-d", "cheby1:6", "--data", str(tmp_path / "c"), "--iterations", "4"]
    args += ["--record-every", "2", "--chunk", "512", "--batch-size", "2", "--val-offset", "0", "--val-seconds", "1"]
    args += ["--workers", "0", "--device", "cpu", "-q", "-o", str(tmp_path / "run")]
    result = CliRunner().invoke(cli, ["train", *args])
    assert result.exit_code == 0, result.output
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["precision"] == "bf16"  # auto, resolved on a CPU with native bfloat16
    monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda: False)
    resumed = CliRunner().invoke(cli, ["train", "-o", str(tmp_path / "run"), "--resume", "--iterations", "6", "-q"])
    assert resumed.exit_code == 0, resumed.output
    assert json.loads((tmp_path / "run" / "config.json").read_text())["precision"] == "bf16"  # kept
    refused = CliRunner().invoke(cli, ["train", "-o", str(tmp_path / "run"), "--resume", "--precision", "fp32"])
    assert refused.exit_code == 2 and "--precision cannot change when resuming" in refused.output


def test_fp32_means_ieee_float32_on_cuda_and_tf32_is_asked_for():
    """PyTorch lets cuDNN round float32 convolutions' inputs to TF32 by default; the bundled ResNets'
    steep inversions lose up to 10 dB that way (docs/performance.md), so every precision but tf32 turns
    it off on CUDA, forward and backward, and puts the setting back afterwards; the CPU is untouched."""
    from audioenh.precision import float32_math

    flags = torch.backends.cudnn, torch.backends.cuda.matmul
    saved = [f.allow_tf32 for f in flags]
    try:
        for f in flags:
            f.allow_tf32 = True
        for precision, allowed in (("fp32", False), ("bf16", False), ("fp16", False), ("tf32", True)):
            with float32_math(precision, "cuda"):
                assert [f.allow_tf32 for f in flags] == [allowed, allowed]
            assert [f.allow_tf32 for f in flags] == [True, True]
        with float32_math("fp32", "cpu"), autocast("fp32", "cpu"):
            assert [f.allow_tf32 for f in flags] == [True, True]
    finally:
        for f, value in zip(flags, saved):
            f.allow_tf32 = value
    assert resolve_precision("tf32", "cuda", "resnet") == "tf32"
    with pytest.raises(AudioenhError, match="tf32 needs a CUDA GPU"):
        resolve_precision("tf32", "cpu", "resnet")


def test_a_training_step_runs_its_backward_pass_in_the_forward_pass_float32_math():
    from audioenh.training.step import train_step

    seen = {}

    class Record(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            seen["forward"] = torch.backends.cudnn.allow_tf32
            return x.clone()

        @staticmethod
        def backward(ctx, grad):
            seen["backward"] = torch.backends.cudnn.allow_tf32
            return grad

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv1d(2, 2, 3, padding=1)

        def forward(self, x):
            return Record.apply(self.conv(x))

    model = Net()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    x = torch.randn(1, 2, 16)
    saved = torch.backends.cudnn.allow_tf32
    try:
        torch.backends.cudnn.allow_tf32 = True
        for precision, allowed in (("fp32", False), ("tf32", True)):
            train_step(model, optimizer, x, x, precision, torch.device("cuda"))  # the device names the rule
            assert seen == {"forward": allowed, "backward": allowed}
        assert torch.backends.cudnn.allow_tf32 is True
    finally:
        torch.backends.cudnn.allow_tf32 = saved
