"""Two generalization matrices side by side: what changed, cell by cell, between a before and an after.

A matrix (``audioenh matrix -o DIR``'s ``matrix.json``, or a report's ``report.json``, whose ``matrix``
key holds one) scores models × degradations in raw and safe mode. After a change to a model, a recipe
or safe mode's rule, the question is which cells moved: :func:`compare_matrices` pairs the models (by
name, or as told) and the cells both matrices scored, and gives per mode and pair the summaries before
and after, every cell's change, the cells that got better or worse by more than a threshold (dB) and
those that crossed the harm line (ΔSNR below −0.05 dB). Both must have scored the same songs, excerpts
and sample rate, or the differences would say nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import AudioenhError
from ..evaluation.matrix import EDGE_LSD, HARM_DB, delta_summary
from ..fileio import write_json, write_text
from .markup import html_page, html_table, md_table
from .matrix import format_delta as _fmt
from .matrix import heatmap

#: metric -> +1 when a larger Δ is better (SNR), -1 when a smaller one is (LSD)
BETTER_SIGN = {"snr": +1, EDGE_LSD: -1}
#: the settings two matrices must share for their cells to be compared
SAME_SETTINGS = ("songs", "seconds", "sample_rate")


def load_matrix(path: str | Path) -> dict[str, Any]:
    """The matrix in ``path``: a ``matrix.json``, a ``report.json`` (its ``matrix``) or a folder holding
    either. Raises :class:`AudioenhError` with one line when there is none or it is malformed."""
    p = Path(path)
    if p.is_dir():
        candidates = [p / "matrix.json", p / "report.json"]
        found = next((c for c in candidates if c.is_file()), None)
        if found is None:
            raise AudioenhError(f"{p} holds no matrix.json or report.json (write one with audioenh matrix -o {p})")
        p = found
    try:
        data = json.loads(p.read_text())
    except FileNotFoundError:
        raise AudioenhError(f"{p}: no such file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AudioenhError(f"{p} is not a readable JSON file ({type(exc).__name__}: {exc})") from None
    if isinstance(data, dict) and "results" not in data and isinstance(data.get("matrix"), dict):
        data = data["matrix"]  # a report's report.json
    required = ("cells", "models", "modes", "results", "songs")
    if not isinstance(data, dict) or any(key not in data for key in required):
        raise AudioenhError(f"{p} holds no generalization matrix (written by audioenh matrix -o or the report)")
    return data


def _pairs(before: Mapping, after: Mapping, pairs: Sequence[tuple[str, str]] | None) -> list[tuple[str, str]]:
    if pairs:
        for old, new in pairs:
            if old not in before["models"]:
                raise AudioenhError(f"no model {old!r} in the before matrix (it has {', '.join(before['models'])})")
            if new not in after["models"]:
                raise AudioenhError(f"no model {new!r} in the after matrix (it has {', '.join(after['models'])})")
        return list(pairs)
    common = [m for m in after["models"] if m in before["models"]]
    if common:
        return [(m, m) for m in common]
    if len(before["models"]) == 1 and len(after["models"]) == 1:
        return [(next(iter(before["models"])), next(iter(after["models"])))]
    raise AudioenhError(
        f"the matrices share no model name (before: {', '.join(before['models'])}; after: "
        f"{', '.join(after['models'])}); pair them with --pair BEFORE=AFTER"
    )


def _delta(matrix: Mapping, mode: str, model: str, cell: str, metric: str) -> float:
    value = matrix["results"][mode][model][cell]["delta"].get(metric)
    return float("nan") if value is None else float(value)


def _summary(values: np.ndarray, metric: str) -> dict[str, Any]:
    """:func:`delta_summary` of one side's cells; harmed cells are counted for SNR only."""
    return delta_summary(values) | ({} if metric == "snr" else {"harmed": None})


def compare_matrices(
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    pairs: Sequence[tuple[str, str]] | None = None,
    threshold_db: float = 0.05,
    metric: str = "snr",
) -> dict[str, Any]:
    """Cell by cell, ``after`` − ``before`` of Δ``metric`` for each model pair (``(before name, after
    name)``; default: the names both hold, or the only model of each), mode and cell both scored.

    Per mode and pair: ``before`` and ``after`` summaries (worst, mean, harmed cells: ΔSNR below
    :data:`HARM_DB`), the mean change, ``cells`` (each cell's before, after and change), ``better`` and
    ``worse`` (cells whose change exceeds ``threshold_db`` either way, signed so that better is better for
    LSD too), ``newly_harmed`` and ``no_longer_harmed`` (SNR only).
    """
    for key in SAME_SETTINGS:
        if before.get(key) != after.get(key):
            what = {"songs": "songs", "seconds": "excerpt lengths (--seconds)", "sample_rate": "sample rates"}[key]
            raise AudioenhError(
                f"the two matrices scored different {what} ({before.get(key)} against {after.get(key)}): "
                "score both on the same data, split and excerpts"
            )
    if metric not in before.get("metrics", ["snr"]) or metric not in after.get("metrics", ["snr"]):
        raise AudioenhError(f"metric {metric!r} is not in both matrices (before: {', '.join(before['metrics'])})")
    sign = BETTER_SIGN.get(metric, +1)
    model_pairs = _pairs(before, after, pairs)
    cells = [c for c in after["cells"] if c in before["cells"]]
    if not cells:
        raise AudioenhError("the matrices share no degradation (cell): nothing to compare")
    modes = [m for m in after["modes"] if m in before["modes"]]
    results: dict[str, dict[str, Any]] = {}
    for mode in modes:
        results[mode] = {}
        for old, new in model_pairs:
            old_values = np.array([_delta(before, mode, old, c, metric) for c in cells])
            new_values = np.array([_delta(after, mode, new, c, metric) for c in cells])
            change = new_values - old_values
            rows = [
                {"cell": c, "before": float(b), "after": float(a), "change": float(d)}
                for c, b, a, d in zip(cells, old_values, new_values, change)
            ]
            finite = np.isfinite(change)
            entry = {
                "before_model": old,
                "after_model": new,
                "before": _summary(old_values, metric),
                "after": _summary(new_values, metric),
                "mean_change": float(change[finite].mean()) if finite.any() else float("nan"),
                "cells": rows,
                "better": [r["cell"] for r in rows if sign * r["change"] > threshold_db],
                "worse": [r["cell"] for r in rows if sign * r["change"] < -threshold_db],
            }
            if metric == "snr":
                entry["newly_harmed"] = [r["cell"] for r in rows if r["after"] < HARM_DB <= r["before"]]
                entry["no_longer_harmed"] = [r["cell"] for r in rows if r["before"] < HARM_DB <= r["after"]]
            results[mode][_label(old, new)] = entry
    paired_old = {old for old, _ in model_pairs}
    paired_new = {new for _, new in model_pairs}
    return {
        "metric": metric,
        "threshold_db": threshold_db,
        "cells": cells,
        "modes": modes,
        "pairs": [_label(old, new) for old, new in model_pairs],
        "only_before": {
            "models": [m for m in before["models"] if m not in paired_old],
            "cells": [c for c in before["cells"] if c not in cells],
        },
        "only_after": {
            "models": [m for m in after["models"] if m not in paired_new],
            "cells": [c for c in after["cells"] if c not in before["cells"]],
        },
        "songs": list(after["songs"]),
        "seconds": after.get("seconds"),
        "data": {"before": before.get("data"), "after": after.get("data")},
        "results": results,
    }


def _label(old: str, new: str) -> str:
    return old if old == new else f"{old} → {new}"


def summary_lines(comparison: Mapping[str, Any]) -> list[str]:
    """One line per mode and pair, then the cells that crossed the harm line, for the terminal."""
    metric, threshold = comparison["metric"], comparison["threshold_db"]
    unit = " dB" if metric == "snr" else ""
    lines = []
    for mode in comparison["modes"]:
        for label, entry in comparison["results"][mode].items():
            b, a = entry["before"], entry["after"]
            text = (
                f"{label} ({mode}): mean {_fmt(b['mean'])} → {_fmt(a['mean'])} ({_fmt(entry['mean_change'])}{unit}), "
                f"worst {_fmt(b['min'])} → {_fmt(a['min'])}"
            )
            if b["harmed"] is not None:
                text += f", cells < −0.05 dB {b['harmed']} → {a['harmed']}"
            text += f"; {len(entry['better'])} better, {len(entry['worse'])} worse by more than {threshold:g}{unit}"
            lines.append(text)
            lines += [f"    {text}" for text in _crossings(entry)]
    return lines + _not_compared(comparison)


def _crossings(entry: Mapping[str, Any]) -> list[str]:
    """The cells of one pair and mode that crossed the harm line, either way."""
    by_cell = {r["cell"]: r for r in entry["cells"]}
    return [
        f"{what}: {cell} {_fmt(by_cell[cell]['before'])} → {_fmt(by_cell[cell]['after'])}"
        for key, what in (("newly_harmed", "now harmed"), ("no_longer_harmed", "no longer harmed"))
        for cell in entry.get(key, [])
    ]


def _not_compared(comparison: Mapping[str, Any]) -> list[str]:
    lines = []
    for side, where in (("only_before", "before"), ("only_after", "after")):
        for kind in ("models", "cells"):
            if comparison[side][kind]:
                lines.append(f"only in the {where} matrix ({kind}, not compared): {', '.join(comparison[side][kind])}")
    return lines


def _changed_rows(comparison: Mapping[str, Any], mode: str) -> tuple[list[str], list[list[str]]]:
    """One row per cell that changed by more than the threshold for some pair: its before → after."""
    pairs = comparison["pairs"]
    header = ["degradation", *pairs]
    entries = comparison["results"][mode]
    changed = [
        c for c in comparison["cells"] if any(c in entries[p]["better"] or c in entries[p]["worse"] for p in pairs)
    ]
    rows = []
    for cell in changed:
        row = [f"`{cell}`"]
        for p in pairs:
            r = next(r for r in entries[p]["cells"] if r["cell"] == cell)
            row.append(f"{_fmt(r['before'])} → {_fmt(r['after'])} ({_fmt(r['change'])})")
        rows.append(row)
    return header, rows


def _summary_rows(comparison: Mapping[str, Any]) -> tuple[list[str], list[list[str]]]:
    header = [
        "model",
        "mode",
        "mean before → after (change)",
        "worst before → after",
        "cells < −0.05",
        "better / worse",
    ]
    rows = []
    for mode in comparison["modes"]:
        for label, e in comparison["results"][mode].items():
            harmed = "–" if e["before"]["harmed"] is None else f"{e['before']['harmed']} → {e['after']['harmed']}"
            rows.append(
                [
                    label,
                    mode,
                    f"{_fmt(e['before']['mean'])} → {_fmt(e['after']['mean'])} ({_fmt(e['mean_change'])})",
                    f"{_fmt(e['before']['min'])} → {_fmt(e['after']['min'])}",
                    harmed,
                    f"{len(e['better'])} / {len(e['worse'])}",
                ]
            )
    return header, rows


def change_heatmap(path: Path, comparison: Mapping[str, Any]) -> Path:
    """Pairs (rows) × cells (columns), one panel per mode, coloured by the change of Δ``metric``."""
    metric = comparison["metric"]
    as_matrix = {
        "models": {p: {} for p in comparison["pairs"]},
        "cells": comparison["cells"],
        "modes": comparison["modes"],
        "results": {
            mode: {
                p: {r["cell"]: {"delta": {metric: r["change"]}} for r in comparison["results"][mode][p]["cells"]}
                for p in comparison["pairs"]
            }
            for mode in comparison["modes"]
        },
    }
    name = "ΔSNR (dB)" if metric == "snr" else f"Δ{metric}"
    return heatmap(path, as_matrix, metric, label=f"change of {name}, after − before", limit_floor=0.1, digits=2)


def write_comparison(out_dir: Path, comparison: Mapping[str, Any]) -> dict[str, Path]:
    """compare.json, compare.md, compare.html (self-contained) and compare-<metric>.png into ``out_dir``."""
    import base64

    out_dir.mkdir(parents=True, exist_ok=True)
    figure = change_heatmap(out_dir / f"compare-{comparison['metric']}.png", comparison)
    write_json(out_dir / "compare.json", dict(comparison), indent=1)
    intro = (
        f"{len(comparison['cells'])} degradations scored on {len(comparison['songs'])} songs in both matrices; "
        f"each value is a cell's Δ{comparison['metric']} before → after (change). Cells listed: changed by more "
        f"than {comparison['threshold_db']:g} for some model."
    )
    md = ["# Generalization matrices compared", "", intro, "", md_table(*_summary_rows(comparison)), ""]
    md += [f"![changes]({figure.name})", ""]
    html_body = ["<h1>Generalization matrices compared</h1>", f"<p>{intro}</p>", html_table(*_summary_rows(comparison))]
    data = base64.b64encode(figure.read_bytes()).decode()
    html_body.append(f"<img alt='changes' src='data:image/png;base64,{data}'>")
    for mode in comparison["modes"]:
        header, rows = _changed_rows(comparison, mode)
        md += [f"## Cells that changed, {mode} mode", ""]
        md += [md_table(header, rows) if rows else "None.", ""]
        html_body += [f"<h2>Cells that changed, {mode} mode</h2>", html_table(header, rows) if rows else "<p>None.</p>"]
    crossings = [
        f"{label} ({mode}) {text}"
        for mode in comparison["modes"]
        for label, entry in comparison["results"][mode].items()
        for text in _crossings(entry)
    ] + _not_compared(comparison)
    if crossings:
        md += ["## Harm line crossed, and what was not compared", "", *[f"- {line}" for line in crossings], ""]
    write_text(out_dir / "compare.md", "\n".join(md))
    page = html_page(
        "audioenh: generalization matrices compared", html_body, max_width=1400, css="td,th{white-space:nowrap}"
    )
    write_text(out_dir / "compare.html", page)
    return {"json": out_dir / "compare.json", "md": out_dir / "compare.md", "html": out_dir / "compare.html"}
