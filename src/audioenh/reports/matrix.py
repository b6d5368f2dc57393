"""The generalization matrix as a reader sees it: heatmaps, tables, and matrix.{json,md,html}."""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..evaluation.matrix import EDGE_LSD, matrix_summary
from ..fileio import write_json, write_text
from .markup import html_page, html_table, inline, md_table

DPI = 110
#: what each heatmap shows: metric -> (file name, colour-bar label, sign that means better)
HEATMAPS = {
    "snr": ("matrix-snr.png", "ΔSNR (dB), output − input", +1),
    EDGE_LSD: ("matrix-lsd-edge.png", "ΔLSD above the band edge, output − input", -1),
}
MODE_TITLES = {
    "raw": "raw mode (the network's output, as the paper measures)",
    "safe": "safe mode (enhance's default: do no harm)",
}


def _values(matrix: Mapping[str, Any], mode: str, metric: str) -> np.ndarray:
    models = list(matrix["models"])
    return np.array([[matrix["results"][mode][m][c]["delta"][metric] for c in matrix["cells"]] for m in models])


def heatmap(
    path: Path,
    matrix: Mapping[str, Any],
    metric: str = "snr",
    label: str | None = None,
    limit_floor: float | None = None,
    digits: int | None = None,
) -> Path:
    """Models (rows) x cells (columns), one panel per mode, coloured by Δ``metric`` (red: worse).

    ``label`` replaces the metric's colour-bar label; the colour scale spans the values' 95th percentile
    of magnitude, at least ``limit_floor`` (default 0.5 dB for SNR, 0.05 otherwise); cells are labelled with
    ``digits`` decimals (default 1 for SNR, 2 otherwise)."""
    _, default_label, better = HEATMAPS.get(metric, (None, f"Δ{metric}", +1))
    label = label or default_label
    if limit_floor is None:
        limit_floor = 0.5 if metric == "snr" else 0.05
    if digits is None:
        digits = 1 if metric == "snr" else 2
    models, cells, modes = list(matrix["models"]), list(matrix["cells"]), list(matrix["modes"])
    width = max(8.0, 2.2 + 0.42 * len(cells))
    height = 1.2 + len(modes) * (0.9 + 0.36 * len(models)) + 1.6
    import matplotlib  # here, not at import: every command line loads this module through `matrix`

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(modes), 1, figsize=(width, height), squeeze=False, constrained_layout=True)
    values = {mode: _values(matrix, mode, metric) for mode in modes}
    finite = np.concatenate([np.abs(v[np.isfinite(v)]) for v in values.values()] or [np.zeros(1)])
    limit = float(np.clip(np.percentile(finite, 95) if finite.size else 1.0, limit_floor, None))
    image = None
    for ax, mode in zip(axes[:, 0], modes):
        v = values[mode] * better  # positive is better either way: green
        image = ax.imshow(v, cmap="RdYlGn", vmin=-limit, vmax=limit, aspect="auto", interpolation="nearest")
        for (i, j), value in np.ndenumerate(values[mode]):
            if np.isfinite(value):
                text = "0" if value == 0 else f"{value:+.{digits}f}"
                ax.text(j, i, text, ha="center", va="center", fontsize=6.5, color="k")
        ax.set_yticks(range(len(models)), models, fontsize=8)
        ax.set_xticks(range(len(cells)), cells, rotation=60, ha="right", fontsize=7)
        ax.set_title(f"{label}: {MODE_TITLES.get(mode, mode)}", fontsize=10)
        if mode != modes[-1]:
            ax.tick_params(labelbottom=False)
    if image is not None:
        bar = fig.colorbar(image, ax=axes[:, 0].tolist(), shrink=0.8, pad=0.01)
        bar.set_label(("" if better > 0 else "−1 × ") + label.split(",")[0] + " (green: better)", fontsize=8)
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


def format_delta(value: float, digits: int = 2) -> str:
    """Signed with ``digits`` decimals; exactly 0 (the input returned as it is) as "0"; undefined as "–"."""
    if value is None or not np.isfinite(value):
        return "–"
    return "0" if value == 0 else f"{value:+.{digits}f}"


def matrix_table(matrix: Mapping[str, Any], mode: str, metric: str = "snr") -> tuple[list[str], list[list[str]]]:
    """One row per cell: the input's band edge and score, then each model's Δ``metric`` (in safe mode its
    trust, and for a bank the models it used where it trusted one)."""
    models = list(matrix["models"])
    header = ["degradation", "band edge (kHz)", f"input {metric}", *models]
    rows = []
    for cell in matrix["cells"]:
        inputs = matrix["inputs"][cell]
        row = [f"`{cell}`", f"{inputs['edge_hz'] / 1000:.2f}", f"{inputs[metric]:.2f}"]
        for m in models:
            result = matrix["results"][mode][m][cell]
            text = format_delta(result["delta"][metric])
            if mode == "safe" and result["trust"] < 0.999:
                text += f" (trust {result['trust']:.2f})"
            if mode == "safe" and result.get("used") and result["trust"] > 0:  # a bank: which of its models
                text += f" [{', '.join(name for name, songs in result['used'].items() if songs)}]"
            row.append(text)
        rows.append(row)
    return header, rows


def summary_table(matrix: Mapping[str, Any], metric: str = "snr") -> tuple[list[str], list[list[str]]]:
    """Per model and mode: worst and mean Δ``metric`` over the cells, and cells that lose > 0.05."""
    summary = matrix_summary(matrix, metric)
    name = metric.upper() if metric == "snr" else metric
    header = ["model", "trained on", *(f"{mode}: worst / mean Δ{name}, cells < −0.05" for mode in summary)]
    rows = []
    for m, info in matrix["models"].items():
        trained = ", ".join(info["trained"])
        if info.get("oracle"):
            trained = "(the ceiling: the original above each input's band edge)"
        elif len(trained) > 60:
            trained = f"{len(info['trained'])} degradations"
        row = [m, trained]
        for mode in summary:
            s = summary[mode][m]
            row.append(f"{format_delta(s['min'])} / {format_delta(s['mean'])}, {s['harmed']} of {len(matrix['cells'])}")
        rows.append(row)
    return header, rows


def describe(matrix: Mapping[str, Any]) -> str:
    seconds = f"{matrix['seconds']:g}-s centred excerpts of " if matrix.get("seconds") else ""
    return (
        f"{len(matrix['cells'])} degradations × {len(matrix['models'])} models, scored on {seconds}"
        f"{len(matrix['songs'])} songs ({matrix.get('data', 'the corpus')}, split {matrix.get('split', 'test')}); "
        "values are means over songs of output − input. The band edge is the one detected on the degraded "
        "input (docs/bandwidth.md); `lsd-edge` is the log-spectral distance above it; safe mode shows the "
        "trust where it is below 1; 0 exactly: the input is returned as it is."
    )


def markdown_section(matrix: Mapping[str, Any], level: int = 2, figure_prefix: str = "") -> list[str]:
    h = "#" * level
    parts = [describe(matrix), ""]
    parts += [f"{h} Summary", "", md_table(*summary_table(matrix)), ""]
    for metric, (file, label, _) in HEATMAPS.items():
        if metric in matrix["metrics"]:
            parts += [f"![{label}]({figure_prefix}{file})", ""]
    for mode in matrix["modes"]:
        parts += [f"{h} ΔSNR (dB), {MODE_TITLES.get(mode, mode)}", "", md_table(*matrix_table(matrix, mode)), ""]
    return parts


def html_section(matrix: Mapping[str, Any], figure_dir: Path, level: int = 2) -> list[str]:
    h = f"h{level}"
    parts = [f"<p>{inline(describe(matrix))}</p>"]
    parts += [f"<{h}>Summary</{h}>", html_table(*summary_table(matrix))]
    for metric, (file, label, _) in HEATMAPS.items():
        if metric in matrix["metrics"] and (figure_dir / file).exists():
            data = base64.b64encode((figure_dir / file).read_bytes()).decode()
            parts.append(f"<img alt='{html.escape(label)}' src='data:image/png;base64,{data}'>")
    for mode in matrix["modes"]:
        parts += [f"<{h}>ΔSNR (dB), {html.escape(MODE_TITLES.get(mode, mode))}</{h}>"]
        parts.append(html_table(*matrix_table(matrix, mode)))
    return parts


def write_figures(out_dir: Path, matrix: Mapping[str, Any]) -> list[Path]:
    return [
        heatmap(out_dir / file, matrix, metric)
        for metric, (file, _, _) in HEATMAPS.items()
        if metric in matrix["metrics"]
    ]


def write_matrix(out_dir: Path, matrix: Mapping[str, Any]) -> dict[str, Path]:
    """matrix.json, matrix.md, matrix.html (self-contained) and the heatmaps, into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    write_figures(out_dir, matrix)
    title = "Generalization matrix"
    write_json(out_dir / "matrix.json", dict(matrix), indent=1)
    write_text(out_dir / "matrix.md", "\n".join([f"# {title}", "", *markdown_section(matrix)]))
    body = [f"<h1>{title}</h1>", *html_section(matrix, out_dir)]
    page = html_page(f"audioenh {title.lower()}", body, max_width=1400, css="td,th{white-space:nowrap}")
    write_text(out_dir / "matrix.html", page)
    return {"json": out_dir / "matrix.json", "md": out_dir / "matrix.md", "html": out_dir / "matrix.html"}
