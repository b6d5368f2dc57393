"""tools/precision_accuracy.py: ΔSNR of a bundled model under each precision, TF32 emulated by rounding
on any device (docs/performance.md, "TF32")."""

from __future__ import annotations

import json

import numpy as np
import torch

from .conftest import tool_module


def test_tf32_rounding_keeps_ten_significand_bits_rounding_to_nearest():
    with tool_module("precision_accuracy") as tool:
        x = torch.tensor([1.0, 1 + 2**-10, 1 + 2**-11, 1 + 2**-12, 1 + 3 * 2**-11, -(1 + 2**-11), 3.0e-5])
        rounded = tool.tf32_round(x)
    # 1 + 2**-11 lies halfway between 1 and 1 + 2**-10: ties go away from zero, as does 1 + 3 * 2**-11
    expected = [1.0, 1 + 2**-10, 1 + 2**-10, 1.0, 1 + 2**-9, -(1 + 2**-10)]
    assert rounded[:6].tolist() == expected
    mantissa = rounded.view(torch.int32) & 0x7FFFFF
    assert torch.all(mantissa & 0x1FFF == 0)  # the 13 low bits of the 23 are gone
    assert abs(float(rounded[6]) / 3.0e-5 - 1) < 2**-10


def test_the_tool_scores_a_bundled_model_per_precision_against_fp32(tmp_path, capsys):
    out = tmp_path / "accuracy.json"
    with tool_module("precision_accuracy") as tool:
        pair = "resnet-11k-cheby1=cheby1:order=8,cutoff=11025"
        args = ["--device", "cpu", "--precisions", "fp32,tf32-emulated-weights,tf32-emulated", "--pairs", pair]
        assert tool.main([*args, "--seconds", "1.0", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "resnet-11k-cheby1" in printed and "tf32-emulated" in printed
    (row,) = json.loads(out.read_text())["rows"]
    results = row["results"]
    assert set(results) == {"fp32", "tf32-emulated-weights", "tf32-emulated"}
    assert results["fp32"]["delta_snr_db"] > 0.5 and "correction_agreement_db" not in results["fp32"]
    # the weights alone rounded change little; the inputs rounded too cost the model its gain
    assert abs(results["tf32-emulated-weights"]["delta_snr_db"] - results["fp32"]["delta_snr_db"]) < 0.05
    assert results["tf32-emulated-weights"]["correction_agreement_db"] > 15
    assert results["tf32-emulated"]["delta_snr_db"] < results["fp32"]["delta_snr_db"] - 1
    assert np.isfinite(results["tf32-emulated"]["correction_agreement_db"])
