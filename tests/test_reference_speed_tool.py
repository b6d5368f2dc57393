"""tools/reference_speed.py: a reference checkout's models timed beside audioenh's, with the ratios the
performance issue's targets are stated in. A stand-in checkout (tiny models under ``src/models``) takes
the place of the paper's repository, which the tests never download."""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager

import pytest

from .conftest import tool_module

STAND_IN = '''
import torch
from torch import nn


class Model(nn.Module):
    """A stand-in for the reference's paper-size model: one same-length convolution plus the input."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(2, 2, 5, padding=2)

    def forward(self, x):
        return x + self.conv(x)
'''


@contextmanager
def reference_speed():
    path = list(sys.path)
    with tool_module("reference_speed") as module:
        yield module
    sys.path[:] = path  # the tool puts the checkout's src/ first
    sys.modules.pop("models", None)  # the stand-in's package, imported by name as the reference's is
    sys.modules.pop("models.resnet", None)


def stand_in_checkout(tmp_path):
    models = tmp_path / "ref" / "src" / "models"
    models.mkdir(parents=True)
    (models / "__init__.py").write_text("")
    (models / "resnet.py").write_text(STAND_IN)
    return tmp_path / "ref"


def test_times_both_models_and_reports_their_ratios(tmp_path, capsys):
    checkout = stand_in_checkout(tmp_path)
    out = tmp_path / "speed.json"
    argv = f"--reference {checkout} --arch resnet --spec resnet:preset=tiny --device cpu --precision fp32"
    argv += f" --batch-size 2 --chunk 512 --seconds 0.05 --audio-seconds 0.1 --rounds 2 --json {out}"
    with reference_speed() as tool:
        tool.main(argv.split())
    results = json.loads(out.read_text())
    r = results["resnet"]
    assert (r["precision"], r["batch_size"], r["chunk"]) == ("fp32", 2, 512)
    ref, ours = r["rounds"]["reference"], r["rounds"]["audioenh"]
    assert len(ref["train_audio_s_per_s"]) == len(ours["forward_rate"]) == len(ours["runtime_rate"]) == 2
    assert ref["runtime_rate"] == []  # enhance's path is audioenh's alone
    # the ratios are the totals' ratios, each way round that makes "above 1" mean faster
    assert r["training_speedup"] == pytest.approx(sum(ours["train_audio_s_per_s"]) / sum(ref["train_audio_s_per_s"]))
    assert r["forward_speedup"] == pytest.approx(sum(ref["forward_rate"]) / sum(ours["forward_rate"]))
    assert r["runtime_speedup"] == pytest.approx(sum(ref["forward_rate"]) / sum(ours["runtime_rate"]))
    assert all(v > 0 for v in ref["train_audio_s_per_s"] + ours["forward_rate"] + ours["runtime_rate"])
    printed = capsys.readouterr()
    assert "| resnet (batch 2 × 512) | fp32 |" in printed.out
    assert f"{r['training_speedup']:.2f}×" in printed.out
    assert printed.err.count("round ") == 4  # each model in each round, alternating


def test_refuses_a_folder_that_is_not_a_checkout(tmp_path):
    with reference_speed() as tool, pytest.raises(SystemExit, match="not a checkout of the reference code"):
        tool.main(["--reference", str(tmp_path), "--arch", "unet", "--device", "cpu"])
