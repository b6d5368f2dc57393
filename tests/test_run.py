"""The run folder, resolved specs and self-describing checkpoints."""

import json
import os
import zipfile

import pytest
import torch

from audioenh import plugins
from audioenh.checkpoint import FORMAT, load_checkpoint, load_model, make_checkpoint, save_checkpoint
from audioenh.degradations.chain import resolve_degradations
from audioenh.errors import AudioenhError, CheckpointError, SpecError
from audioenh.training.config import (
    TrainConfig,
    default_workers,
    differing_settings,
    fixed_settings,
    resumable_settings,
)
from audioenh.training.run import Run


def config(**overrides):
    options = dict(arch="resnet:preset=tiny", degradations=["cheby1:6"], iterations=10, workers=0, device="cpu")
    options.update(overrides)
    return TrainConfig(**options)


def test_resume_rules_are_declared_once_on_the_config():
    assert set(resumable_settings()) == {
        "iterations",
        "min_lr",
        "lr_decay",
        "bn_batches",
        "device",
        "workers",
        "compile_mode",
        "infer_chunk",
    }
    assert {"arch", "degradations", "lr", "seed", "chunk", "batch_size"} <= set(fixed_settings())
    assert not set(resumable_settings()) & set(fixed_settings())


def test_registry_resolve_writes_out_presets():
    registry = plugins.architectures()
    assert registry.resolve("resnet") == (
        "resnet:preset=paper,width=512,blocks=15,kernel=7,batchnorm=false,dropout=0.0,residual_scale=0.1,"
        "audio_channels=2"
    )
    assert registry.resolve("unet:preset=tiny,width=6") == (
        "unet:preset=tiny,width=6,depth=2,kernel=9,max_channels=8,final_kernel=5,batchnorm=false,dropout=0.0,"
        "audio_channels=2"
    )
    # no resolver: the same as canonical
    assert plugins.degradations().resolve("cheby1:6") == plugins.degradations().canonical("cheby1:6")
    with pytest.raises(SpecError, match="unknown preset"):
        registry.resolve("resnet:preset=huge")


def test_resolve_degradations_keeps_the_text_and_the_canonical_chain():
    resolved = resolve_degradations(["cheby1:6", "butter:6+cheby1:order=4..12", "paper-multi"])
    assert [d.text for d in resolved[:2]] == ["cheby1:6", "butter:6+cheby1:order=4..12"]
    assert resolved[0].canonical == "cheby1:order=6,cutoff=11025.0,rp=0.05"
    assert resolved[1].canonical == "butter:order=6,cutoff=11025.0+cheby1:order=4..12,cutoff=11025.0,rp=0.05"
    assert [d.text for d in resolved[2:]][:2] == ["cheby1:6", "cheby1:8"] and len(resolved) == 10
    with pytest.raises(SpecError, match="is a set of alternatives"):
        resolve_degradations(["paper-multi"], allow_sets=False)
    with pytest.raises(SpecError, match="above|Nyquist|cutoff"):
        resolve_degradations(["butter:6,cutoff=15000"], sample_rate=22050)


def test_create_resume_and_refusals(tmp_path):
    run = Run(tmp_path / "run")
    assert not run.exists()
    stored = run.create(config())
    assert stored.resolved_arch.startswith("resnet:preset=tiny,width=8,blocks=2,kernel=3")
    assert stored.resolved_degradations == ["cheby1:order=6,cutoff=11025.0,rp=0.05"]
    assert stored.resolved_unseen == ["butter:order=6,cutoff=11025.0"]
    on_disk = json.loads(run.config_path.read_text())
    assert on_disk["arch"] == "resnet:preset=tiny" and on_disk["degradations"] == ["cheby1:6"]
    with pytest.raises(AudioenhError, match="already holds files"):
        run.create(config())
    resumed = run.resume({"iterations": 20, "device": "cpu"})
    assert resumed.iterations == 20 and run.load_config().iterations == 20
    with pytest.raises(AudioenhError, match="lr cannot change when resuming"):
        run.resume({"lr": 1.0})
    with pytest.raises(AudioenhError, match="holds no training run"):
        Run(tmp_path / "none").resume()


def test_same_settings_compare_resolved_specs(tmp_path):
    run = Run(tmp_path / "run")
    run.create(config())
    run.check_same_settings(config(arch="resnet:preset=tiny,width=8", iterations=99, device="auto"))  # same model
    run.check_same_settings(config(degradations=["cheby1:order=6"]))  # same filter, other spelling
    with pytest.raises(AudioenhError, match=r"other settings \(arch, lr\); train into another --output$"):
        run.check_same_settings(config(arch="resnet:preset=tiny,width=16", lr=1e-3))
    assert differing_settings(config(), config(seed=5)) == ["seed"]


def test_an_old_config_without_resolved_specs_is_resolved_on_load(tmp_path):
    run = Run(tmp_path / "old")
    run.path.mkdir()
    old = config().to_dict()
    for key in ("resolved_arch", "resolved_degradations", "resolved_unseen"):
        del old[key]
    run.config_path.write_text(json.dumps(old))
    loaded = run.load_config()
    assert loaded.is_resolved and loaded.resolved_arch.startswith("resnet:preset=tiny,width=8")


def test_settings_added_later_take_the_value_older_runs_used(tmp_path):
    """range_group (shared range draws) came later: a config without it loads with 1, what runs written
    before it did (so they resume and compare unchanged); new configs share draws in groups of 8."""
    from audioenh.training.config import RANGE_GROUP

    assert config().range_group == RANGE_GROUP == 8
    old = config(degradations=["cheby1:order=4..12"]).resolve().to_dict()
    del old["range_group"]
    assert TrainConfig.from_dict(old).range_group == 1
    run = Run(tmp_path / "old")
    run.path.mkdir()
    run.config_path.write_text(json.dumps(old))
    assert differing_settings(run.load_config(), config(degradations=["cheby1:order=4..12"]).resolve()) == [
        "range_group"
    ]


def test_records_and_cached_results(tmp_path):
    run = Run(tmp_path / "run")
    run.create(config())
    for i in (10, 20, 30):
        run.append_record({"iteration": i, "loss": 1.0 / i, "val": {"seen": {"output": float("inf")}}})
    assert [r["iteration"] for r in run.records()] == [10, 20, 30]
    assert run.records()[0]["val"]["seen"]["output"] is None  # strict JSON
    run.truncate_records(20)
    assert run.last_iteration() == 20
    calls = []
    compute = lambda: calls.append(1) or {"snr": len(calls)}  # noqa: E731
    assert run.cached_result("test/x", compute) == {"snr": 1}
    assert run.cached_result("test/x", compute) == {"snr": 1} and len(calls) == 1  # cached
    run.append_record({"iteration": 30})
    assert run.cached_result("test/x", compute) == {"snr": 2}  # a newer checkpoint: computed again


def _tiny_checkpoint():
    model = plugins.architectures().create("resnet:preset=tiny").eval()
    return model, make_checkpoint(
        arch="resnet:preset=tiny",
        architecture=plugins.architectures().resolve("resnet:preset=tiny"),
        model=model,
        sample_rate=44100,
        degradations=["cheby1:6"],
        resolved_degradations=["cheby1:order=6,cutoff=11025.0,rp=0.05"],
        unseen=["butter:6"],
        plugins=[],
    )


def test_checkpoint_schema_and_versions(tmp_path):
    from audioenh import __version__

    model, ckpt = _tiny_checkpoint()
    assert ckpt["format"] == FORMAT and ckpt["audio_channels"] == 2
    assert ckpt["versions"] == {"audioenh": __version__, "plugins": []}
    save_checkpoint(tmp_path / "m.pt", ckpt)
    assert set(load_checkpoint(tmp_path / "m.pt")) == set(ckpt)


def test_format_1_checkpoints_still_load(tmp_path):
    model, _ = _tiny_checkpoint()
    old = {
        "format": "audioenh-checkpoint-1",
        "arch": "resnet:preset=tiny,batchnorm=false,dropout=0.0,residual_scale=0.1,audio_channels=2",
        "sample_rate": 44100,
        "audio_channels": 2,
        "degradations": ["cheby1:6"],
        "model": model.state_dict(),
    }
    torch.save(old, tmp_path / "old.pt")
    rebuilt, loaded = load_model(tmp_path / "old.pt")
    x = torch.randn(1, 2, 300)
    with torch.no_grad():
        torch.testing.assert_close(rebuilt(x), model(x), rtol=0, atol=0)
    assert loaded["arch"] == old["arch"]


def test_a_packaged_resource_loads(tmp_path):
    """Any importlib.resources Traversable works (a zip member here, as in a zipped package)."""
    model, ckpt = _tiny_checkpoint()
    save_checkpoint(tmp_path / "m.pt", ckpt)
    with zipfile.ZipFile(tmp_path / "pkg.zip", "w") as zf:
        zf.write(tmp_path / "m.pt", "models/default.pt")
    resource = zipfile.Path(tmp_path / "pkg.zip", "models/default.pt")
    rebuilt, loaded = load_model(resource)
    assert loaded["arch"] == "resnet:preset=tiny"
    with pytest.raises(CheckpointError, match="not in the package"):
        load_model(zipfile.Path(tmp_path / "pkg.zip", "models/missing.pt"))


def test_pickled_code_is_refused(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    torch.save({"format": FORMAT, "arch": "resnet", "sample_rate": 44100, "model": Evil()}, tmp_path / "evil.pt")
    with pytest.raises(CheckpointError, match="not a valid audioenh checkpoint: it holds Python objects"):
        load_checkpoint(tmp_path / "evil.pt")


def test_unloadable_files_are_explained_without_internal_text(tmp_path):
    import numpy as np
    import soundfile as sf

    sf.write(tmp_path / "song.wav", np.zeros((100, 2)), 44100)
    (tmp_path / "noise.pt").write_bytes(np.random.default_rng(0).bytes(300))
    _, ckpt = _tiny_checkpoint()
    save_checkpoint(tmp_path / "whole.pt", ckpt)
    data = (tmp_path / "whole.pt").read_bytes()
    (tmp_path / "cut.pt").write_bytes(data[: len(data) // 2])
    expected = {
        "song.wav": "it is a WAV audio file; give a checkpoint (.pt) or a training run folder",
        "noise.pt": "the file is not a PyTorch checkpoint",
        "cut.pt": "the file is damaged or incomplete (an unreadable PyTorch archive)",
    }
    for name, reason in expected.items():
        with pytest.raises(CheckpointError) as info:
            load_checkpoint(tmp_path / name)
        assert (
            str(info.value)
            == f"cannot load checkpoint {str(tmp_path / name)!r}: not a valid audioenh checkpoint: {reason}"
        )


@pytest.mark.parametrize("cores, workers", [(None, 0), (1, 0), (2, 0), (3, 2), (5, 4), (64, 4)])
def test_default_workers_follow_the_core_count(monkeypatch, cores, workers):
    """On 2 cores the examples are made in the training process (a worker took CPU from the network)."""
    monkeypatch.setattr(os, "cpu_count", lambda: cores)
    assert default_workers() == workers
