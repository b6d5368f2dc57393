"""``audioenh matrix-compare``: two generalization matrices compared cell by cell."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from audioenh.cli import cli
from audioenh.errors import AudioenhError
from audioenh.reports.matrix_compare import compare_matrices, load_matrix, write_comparison

CELLS = ("cheby1:6", "butter:6", "mp3:128")


def make_matrix(values: dict[str, dict[str, tuple[float, ...]]], songs=("song-020", "song-021"), lsd=None) -> dict:
    """A matrix as ``audioenh matrix`` writes it: ``values[mode][model]`` are the cells' ΔSNR (dB)."""
    modes = list(values)
    models = list(values[modes[0]])
    results = {
        mode: {
            m: {
                c: {"delta": {"snr": v, "lsd-edge": (lsd or {}).get((mode, m, c), 0.0)}, "trust": 1.0}
                for c, v in zip(CELLS, values[mode][m])
            }
            for m in models
        }
        for mode in modes
    }
    return {
        "cells": list(CELLS),
        "models": {m: {"trained": ["cheby1:6"], "precision": "fp32"} for m in models},
        "modes": modes,
        "metrics": ["snr", "lsd-edge"],
        "songs": list(songs),
        "seconds": 4.0,
        "sample_rate": 44100,
        "inputs": {c: {"snr": 20.0, "lsd-edge": 5.0, "edge_hz": 11500.0} for c in CELLS},
        "results": results,
    }


BEFORE = make_matrix({"raw": {"A": (3.0, -2.0, -0.5)}, "safe": {"A": (2.0, 0.0, -0.10)}})
AFTER = make_matrix({"raw": {"A": (3.5, -2.02, -0.5)}, "safe": {"A": (1.9, -0.30, 0.0)}})


def test_changes_summaries_and_harm_crossings_by_hand():
    out = compare_matrices(BEFORE, AFTER, threshold_db=0.05)
    assert out["pairs"] == ["A"] and out["modes"] == ["raw", "safe"] and out["cells"] == list(CELLS)
    safe = out["results"]["safe"]["A"]
    assert [r["change"] for r in safe["cells"]] == pytest.approx([-0.1, -0.3, 0.1])
    assert safe["before"] == {"min": -0.1, "mean": pytest.approx((2.0 + 0.0 - 0.1) / 3), "harmed": 1}
    assert safe["after"] == {"min": -0.3, "mean": pytest.approx((1.9 - 0.3 + 0.0) / 3), "harmed": 1}
    assert safe["mean_change"] == pytest.approx((-0.1 - 0.3 + 0.1) / 3)
    assert safe["better"] == ["mp3:128"] and safe["worse"] == ["cheby1:6", "butter:6"]
    assert safe["newly_harmed"] == ["butter:6"] and safe["no_longer_harmed"] == ["mp3:128"]
    raw = out["results"]["raw"]["A"]
    # -0.02 dB is within the threshold: neither better nor worse; both already harmed: no crossing
    assert raw["better"] == ["cheby1:6"] and raw["worse"] == [] and raw["newly_harmed"] == []
    assert compare_matrices(BEFORE, AFTER, threshold_db=0.2)["results"]["safe"]["A"]["worse"] == ["butter:6"]


def test_lsd_lower_is_better():
    lsd_before = {("raw", "A", "cheby1:6"): -1.0}
    lsd_after = {("raw", "A", "cheby1:6"): -1.5, ("raw", "A", "butter:6"): 0.3}
    before = make_matrix({"raw": {"A": (0, 0, 0)}}, lsd=lsd_before)
    after = make_matrix({"raw": {"A": (0, 0, 0)}}, lsd=lsd_after)
    raw = compare_matrices(before, after, metric="lsd-edge")["results"]["raw"]["A"]
    assert raw["better"] == ["cheby1:6"] and raw["worse"] == ["butter:6"]
    assert raw["before"]["harmed"] is None and "newly_harmed" not in raw


def test_pairing_by_name_by_the_only_model_and_as_told():
    two = make_matrix({"raw": {"A": (1, 1, 1), "B": (2, 2, 2)}})
    renamed = make_matrix({"raw": {"B": (2, 2, 3), "C": (0, 0, 0)}})
    out = compare_matrices(two, renamed)
    assert out["pairs"] == ["B"] and out["only_before"]["models"] == ["A"] and out["only_after"]["models"] == ["C"]
    single = compare_matrices(make_matrix({"raw": {"old": (1, 1, 1)}}), make_matrix({"raw": {"new": (1, 2, 1)}}))
    assert single["pairs"] == ["old → new"]
    assert single["results"]["raw"]["old → new"]["better"] == ["butter:6"]
    told = compare_matrices(two, renamed, pairs=[("A", "C")])
    assert told["pairs"] == ["A → C"] and told["results"]["raw"]["A → C"]["mean_change"] == pytest.approx(-1.0)
    with pytest.raises(AudioenhError, match="share no model name.*--pair"):
        compare_matrices(two, make_matrix({"raw": {"X": (0, 0, 0), "Y": (0, 0, 0)}}))
    with pytest.raises(AudioenhError, match="no model 'Z' in the after matrix"):
        compare_matrices(two, renamed, pairs=[("A", "Z")])


def test_only_the_cells_and_modes_both_scored():
    after = make_matrix({"safe": {"A": (1.0, 1.0, 1.0)}})
    after["cells"] = ["cheby1:6", "ellip:6"]
    after["results"]["safe"]["A"] = {"cheby1:6": {"delta": {"snr": 2.5}}, "ellip:6": {"delta": {"snr": 1.0}}}
    out = compare_matrices(BEFORE, after)
    assert out["modes"] == ["safe"] and out["cells"] == ["cheby1:6"]
    assert out["only_before"]["cells"] == ["butter:6", "mp3:128"] and out["only_after"]["cells"] == ["ellip:6"]
    assert out["results"]["safe"]["A"]["cells"] == [{"cell": "cheby1:6", "before": 2.0, "after": 2.5, "change": 0.5}]


def test_refuses_matrices_of_other_songs_or_excerpts():
    with pytest.raises(AudioenhError, match="different songs"):
        compare_matrices(BEFORE, make_matrix({"raw": {"A": (0, 0, 0)}}, songs=("song-020",)))
    other = dict(AFTER, seconds=None)
    with pytest.raises(AudioenhError, match="different excerpt lengths"):
        compare_matrices(BEFORE, other)
    with pytest.raises(AudioenhError, match="metric 'vgg'"):
        compare_matrices(BEFORE, AFTER, metric="vgg")


def test_nan_cells_are_left_out_of_the_summaries():
    after = make_matrix({"raw": {"A": (float("nan"), -2.0, -0.5)}})
    raw = compare_matrices(BEFORE, after)["results"]["raw"]["A"]
    assert math.isnan(raw["cells"][0]["change"]) and raw["mean_change"] == pytest.approx(-0.0)
    assert raw["after"]["mean"] == pytest.approx(-1.25) and raw["better"] == raw["worse"] == []


def test_load_matrix_from_files_folders_and_reports(tmp_path):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "matrix.json").write_text(json.dumps(BEFORE))
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "report.json").write_text(json.dumps({"preset": "quick", "matrix": AFTER}))
    assert load_matrix(tmp_path / "m") == BEFORE == load_matrix(tmp_path / "m" / "matrix.json")
    assert load_matrix(tmp_path / "r") == AFTER
    (tmp_path / "empty").mkdir()
    with pytest.raises(AudioenhError, match="holds no matrix.json or report.json"):
        load_matrix(tmp_path / "empty")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(AudioenhError, match="not a readable JSON file"):
        load_matrix(tmp_path / "bad.json")
    (tmp_path / "other.json").write_text(json.dumps({"preset": "quick"}))
    with pytest.raises(AudioenhError, match="holds no generalization matrix"):
        load_matrix(tmp_path / "other.json")


def test_write_comparison_files(tmp_path):
    paths = write_comparison(tmp_path / "out", compare_matrices(BEFORE, AFTER))
    md = paths["md"].read_text()
    assert "| A | safe | +0.63 → +0.53 (-0.10) | -0.10 → -0.30 | 1 → 1 | 1 / 2 |" in md
    assert "A (safe) now harmed: butter:6 0 → -0.30" in md
    assert "`cheby1:6` | +2.00 → +1.90 (-0.10)" in md
    assert json.loads(paths["json"].read_text())["results"]["safe"]["A"]["newly_harmed"] == ["butter:6"]
    assert "data:image/png;base64," in paths["html"].read_text()
    png = (tmp_path / "out" / "compare-snr.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000


def test_cli_prints_the_changes_and_writes_the_folder(tmp_path):
    (tmp_path / "before.json").write_text(json.dumps(BEFORE))
    (tmp_path / "after.json").write_text(json.dumps(AFTER))
    runner = CliRunner()
    args = ["matrix-compare", str(tmp_path / "before.json"), str(tmp_path / "after.json")]
    result = runner.invoke(cli, [*args, "-o", str(tmp_path / "cmp")])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "3 degradations x 2 songs, Δsnr before → after (change):"
    assert (
        "  A (safe): mean +0.63 → +0.53 (-0.10 dB), worst -0.10 → -0.30, cells < −0.05 dB 1 → 1; "
        "1 better, 2 worse by more than 0.05 dB" in lines
    )
    assert "      now harmed: butter:6 0 → -0.30" in lines and "      no longer harmed: mp3:128 -0.10 → 0" in lines
    assert (tmp_path / "cmp" / "compare.html").is_file() and lines[-1] == f"wrote {tmp_path / 'cmp' / 'compare.html'}"
    as_json = json.loads(runner.invoke(cli, [*args, "--json", "--threshold", "0.2"]).output)
    assert as_json["results"]["safe"]["A"]["worse"] == ["butter:6"]
    bad = runner.invoke(cli, [*args, "--pair", "A"])
    assert bad.exit_code == 1 and bad.output.strip() == "Error: --pair 'A': expected BEFORE_NAME=AFTER_NAME"


def test_subprocess_one_line_error_for_a_file_without_a_matrix(tmp_path):
    (tmp_path / "before.json").write_text(json.dumps(BEFORE))
    (tmp_path / "other.json").write_text("[]")
    env = dict(os.environ, AUDIOENH_NO_PLUGINS="1")
    done = subprocess.run(
        [sys.executable, "-m", "audioenh", "matrix-compare", tmp_path / "before.json", tmp_path / "other.json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        f"Error: {tmp_path / 'other.json'} holds no generalization matrix (written by audioenh matrix -o or the report)"
    ]
