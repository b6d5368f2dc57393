"""tools/compile_speed.py: eager against compiled, alternating, one JSON object per run. torch.compile
itself is replaced by a counting stand-in that returns the model unchanged (compiling takes tens of
seconds on a CPU), so what is tested is the tool's plumbing and arithmetic."""

from __future__ import annotations

import json

import torch

from .conftest import tool_module


def test_the_tool_times_eager_and_compiled_alike_and_reports_the_ratios(monkeypatch, tmp_path, capsys):
    compiled = []

    def stand_in(model, mode="default"):
        compiled.append((type(model).__name__, mode))
        return model

    monkeypatch.setattr(torch, "compile", stand_in)
    out = tmp_path / "compile.jsonl"
    with tool_module("compile_speed") as tool:
        args = ["--arch", "resnet:preset=tiny", "--device", "cpu", "--precision", "fp32", "--batch-size", "2"]
        args += ["--chunk", "512", "--seconds", "0.05", "--audio-seconds", "0.2", "--rounds", "2", "--json", str(out)]
        assert tool.main(args + ["--mode", "max-autotune"]) == 0
    assert compiled == [("ResNet", "max-autotune")]
    printed = json.loads(capsys.readouterr().out)
    assert json.loads(out.read_text().splitlines()[0]) == printed
    assert printed["arch"] == "resnet:preset=tiny" and printed["precision"] == "fp32" and printed["rounds"] == 2
    for name in ("eager", "compiled"):
        assert printed[f"{name}_train_its"] > 0 and 0 < printed[f"{name}_forward_rate"] < 10
    assert printed["train_speedup"] == printed["compiled_train_its"] / printed["eager_train_its"]
    assert printed["forward_speedup"] == printed["eager_forward_rate"] / printed["compiled_forward_rate"]
    assert 0.2 < printed["train_speedup"] < 5  # the same model twice: equal to timing noise
