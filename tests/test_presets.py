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
    quick = PRESETS["quick"]
    assert quick.iterations_for("ResNet", "baseline") == 1000
    assert quick.iterations_for("ResNet", "DA") == 1000
    assert quick.iterations_for("ResNet", "BN") == quick.iterations == 500
    assert quick.iterations_for("U-Net", "DA") == 500
    assert quick.arch_spec("ResNet", "DO") == "resnet:width=16,blocks=6,kernel=7,dropout=0.5"
    assert PRESETS["paper"].arch_spec("U-Net", "BN") == "unet:batchnorm=true"
