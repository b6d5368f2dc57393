"""tools/train_bundled_model.py: every bundled model has its recipe, and the shipped checkpoints were
written by it with that recipe (their cards say so); training time adds up over resumed processes."""

from __future__ import annotations

import json
import shlex

import pytest

from audioenh import pretrained
from audioenh.checkpoint import load_checkpoint, validated_ranges

from .conftest import tool_module


@pytest.fixture(scope="module")
def tool():
    with tool_module("train_bundled_model") as module:
        yield module


def test_every_bundled_model_has_a_recipe(tool):
    assert set(tool.RECIPES) == set(pretrained.BUNDLED)


def options(args: list[str]) -> list[tuple[str, str]]:
    """``--option value`` pairs, sorted: the same training whatever the order they were written in."""
    assert len(args) % 2 == 0 and all(a.startswith("--") for a in args[::2]), args
    return sorted(zip(args[::2], args[1::2]))


@pytest.mark.parametrize("name", list(pretrained.BUNDLED))
def test_the_shipped_model_was_trained_by_its_recipe(tool, name):
    checkpoint = load_checkpoint(pretrained.bundled(name).resource)
    # validated by the current rule, as enhance runs it (tools/validate_responses.py, or retraining)
    assert validated_ranges(checkpoint) is not None, f"{name}: run tools/validate_responses.py on it"
    card = checkpoint["card"]
    recipe = tool.RECIPES[name]
    assert card["command"].startswith("python tools/train_bundled_model.py")
    shown = shlex.split(card["command"].split("(runs: ", 1)[1].rstrip(")"))
    assert shown[:2] == ["audioenh", "train"]
    expected = ["--arch", recipe.arch, *tool.COMMON_ARGS, *recipe.args, "--iterations", str(recipe.iterations)]
    expected += ["--output", "RUN"]
    assert options(shown[2:]) == options(expected)
    assert card["summary"] == recipe.summary


def test_training_seconds_add_up_over_resumed_processes(tool, tmp_path):
    assert tool.training_seconds(tmp_path) is None
    records = [{"iteration": 10, "seconds": 100.0}, {"iteration": 20, "seconds": 200.5}]
    records += [{"iteration": 30, "seconds": 50.0}, {"iteration": 40, "seconds": 150.0}]  # resumed
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    assert tool.training_seconds(tmp_path) == pytest.approx(350.5)


def test_the_tool_removes_only_the_degraded_songs_it_cached(tool, tmp_path, monkeypatch, capsys):
    """A four-family recipe caches about 2.7 GB of whole-song degradations; ten models' worth would
    fill a disk, so each model's training leaves the cache as it found it."""
    monkeypatch.setenv("AUDIOENH_CACHE", str(tmp_path))
    folder = tmp_path / "degraded"
    folder.mkdir()
    (folder / "old.npy").write_bytes(b"x" * 10)
    before = tool.degraded_cache_files()
    for name in ("a.npy", "b.npy"):
        (folder / name).write_bytes(b"y" * 1000)
    tool.remove_new_cache_files(before)
    assert sorted(p.name for p in folder.iterdir()) == ["old.npy"]
    assert "removed 2 cached degraded songs" in capsys.readouterr().out
