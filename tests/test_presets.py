"""Report presets: every architecture spec builds, and per-run budgets resolve as documented."""

import pytest
import torch

from audioenh.plugins import architectures, degradations
from audioenh.reports.presets import PRESETS, VARIANTS


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_run_of_every_preset_builds(name):
    preset = PRESETS[name]
    for arch in preset.archs:
        for variant, (_, training) in VARIANTS.items():
            with torch.device("meta"):
                architectures().create(preset.arch_spec(arch, variant))
            assert degradations().expand([training])
            assert preset.iterations_for(arch, variant) >= preset.record_every


def test_run_iterations_specific_key_wins():
    from dataclasses import replace

    preset = replace(PRESETS["quick"], iterations=100, run_iterations={"ResNet DA": 400, "DA": 300, "ResNet": 200})
    assert preset.iterations_for("ResNet", "DA") == 400
    assert preset.iterations_for("U-Net", "DA") == 300
    assert preset.iterations_for("ResNet", "BN") == 200
    assert preset.iterations_for("U-Net", "BN") == 100


def test_quick_gives_every_variant_of_an_architecture_the_same_budget():
    quick = PRESETS["quick"]
    for arch in quick.archs:
        assert {quick.iterations_for(arch, variant) for variant in VARIANTS} == {1000}
    quick = PRESETS["quick"]
    assert quick.arch_spec("ResNet", "DO") == "resnet:width=16,blocks=6,kernel=7,dropout=0.5"
    assert PRESETS["paper"].arch_spec("U-Net", "BN") == "unet:batchnorm=true"
