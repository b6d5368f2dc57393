"""Write ``report.json``, ``report.md`` and a self-contained ``report.html`` (figures inlined)."""

from __future__ import annotations

import base64
import html
import math
import os
import platform
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from .. import __version__
from ..fileio import write_json as _write_json
from ..fileio import write_text
from . import matrix as matrix_pages
from .markup import html_page, html_table, inline, md_table

MATRIX_TITLE = "Generalization matrix — every model on every kind of band limit, raw and safe mode"

if TYPE_CHECKING:
    from .experiment import Experiment

FIGURES = {
    "fig2": ("fig2_filters.png", "Fig. 2 — training filters' magnitude responses, the unseen filter dashed"),
    "fig3": (
        "fig3_validation.png",
        "Fig. 3 — validation SNR against iterations (the input's SNR dashed, once per distinct input)",
    ),
    "fig4": (
        "fig4_spectrograms.png",
        "Fig. 4 — spectrograms of a test excerpt under the unseen filter, and absolute differences from the target",
    ),
}


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _fmt(value: Any, digits: int = 2, sign: bool = False) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    if isinstance(value, float):
        return f"{value:+.{digits}f}" if sign else f"{value:.{digits}f}"
    return str(value)


def tables(report: dict[str, Any]) -> dict[str, tuple[list[str], list[list[str]]]]:
    """Table II, III, IV and the preset settings as (header, rows) of strings."""
    others = [m for m in report.get("metrics", ["snr", "lsd", "lsd-hf"]) if m != "snr"]
    t2 = []
    for r in report["rows"]:
        row = [
            f"{r['arch']} {r['variant']}",
            r["degradation"] + ("" if r["seen"] else " (unseen)"),
            _fmt(r["input"]["snr"]),
            _fmt(r["output"]["snr"]),
            _fmt(r["delta"]["snr"], sign=True),
        ]
        for m in others:
            row += [_fmt(r["input"].get(m), 3), _fmt(r["output"].get(m), 3)]
        t2.append(row)
    t3 = [
        [
            r["arch"],
            r["split"],
            str(r["songs"]),
            _fmt(r["input"]["snr"]),
            _fmt(r["output"]["snr"]),
            _fmt(r["delta"]["snr"], sign=True),
        ]
        for r in report["sample_overfitting"]
    ]
    t4 = [
        [
            m["arch"],
            f"`{m['spec']}`",
            f"{m['params']:,}",
            f"{m['macs'] / 1e9:.2f} G",
            f"{m['runtime_rate']:.4f}",
            f"{m['device']}, {m.get('precision', 'fp32')}",
        ]
        for m in report["models"]
    ]
    settings = report["preset_settings"]
    t5 = [
        [_SETTING_LABELS.get(k, k.replace("_", " ")), _setting_text(v)]
        for k, v in settings.items()
        if k != "description"
    ]
    return {
        "Table II — test set, input vs output, raw mode: the network's output as it is (SNR and ΔSNR in dB; "
        "see docs/metrics.md for the others)": (
            ["model", "filter", "input SNR", "output SNR", "ΔSNR"]
            + [f"{side} {m.upper()}" for m in others for side in ("input", "output")],
            t2,
        ),
        "Table III — sample overfitting: train vs test split, seen filter, baselines, raw mode": (
            ["model", "split", "songs", "input SNR", "output SNR", "ΔSNR"],
            t3,
        ),
        "Table IV — size and speed (MACs for one 8 × 2 × 8192 batch; runtime rate = s of compute per s of audio)": (
            ["model", "spec", "parameters", "MACs", "runtime rate", "device, precision"],
            t4,
        ),
        "Preset settings": (["setting", "value"], t5),
    }


_SETTING_LABELS = {
    "name": "preset",
    "archs": "architectures",
    "data": "corpus",
    "iterations": "iterations per run",
    "batch_size": "batch size",
    "chunk": "samples per training example",
    "lr": "learning rate",
    "record_every": "iterations between records",
    "val_offset": "validation excerpt start (s)",
    "val_seconds": "validation excerpt length (s)",
    "min_lr": "stop below learning rate",
    "patience": "records before halving the learning rate",
    "infer_chunk": "samples per inference block",
    "run_iterations": "iterations of particular runs",
    "overfit_train_songs": "training songs scored for Table III",
    "runtime_seconds": "audio timed for the runtime rate (s)",
    "excerpt_seconds": "Fig. 4 excerpt (s)",
    "matrix_cells": "generalization matrix: degradations",
    "matrix_seconds": "generalization matrix: centred excerpt of each test song (s)",
}


def _setting_text(value: Any) -> str:
    """A preset setting as a reader writes it: no Python reprs (``None`` is "—", dicts are "key: value")."""
    if value is None:
        return "—"
    if isinstance(value, (list, tuple)):
        return ", ".join(_setting_text(v) for v in value) or "—"
    if isinstance(value, dict):
        return "; ".join(f"{k}: `{v}`" if isinstance(v, str) else f"{k}: {v}" for k, v in value.items()) or "—"
    if isinstance(value, str):
        return f"`{value}`"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def finding_text(report: dict[str, Any]) -> str:
    f = report["finding"]
    verdict = "**shown**" if f["shown"] else "**not shown** at this budget"
    return (
        f"The paper's finding is {verdict}: the {f['arch']} baseline trained on `{report['seen']}` changes SNR by "
        f"{_fmt(f['baseline_seen_delta_snr'], sign=True)} dB on the seen filter (≥ +1 dB: "
        f"{'yes' if f['seen_gain_at_least_1db'] else 'no'}) and by "
        f"{_fmt(f['baseline_unseen_delta_snr'], sign=True)} dB on the unseen `{report['unseen']}` "
        f"(loses ≥ 2 dB of its gain: "
        f"{'yes' if f['unseen_loses_at_least_2db'] else 'no'}); trained on the multi-filter set it changes SNR by "
        f"{_fmt(f['da_unseen_delta_snr'], sign=True)} dB on the unseen filter (better than the baseline: "
        f"{'yes' if f['da_beats_baseline_on_unseen'] else 'no'})."
    )


def budget_text(report: dict[str, Any]) -> str:
    """How many iterations the runs trained (read from the runs, so reused runs are told as they are),
    and why the preset's budget was reduced on this machine, if it was."""
    trained = {f"{r['arch']} {r['variant']}": r["iterations"] for r in report["rows"] if "iterations" in r}
    if not trained:
        return ""
    counts = set(trained.values())
    reason, full = report.get("budget_note"), report.get("preset_iterations")
    why = f"{reason}, where the preset trains less to keep to its time (docs/results.md)" if reason else ""
    if len(counts) == 1:
        n = counts.pop()
        if why and full and n != full:
            return f"Every run trained {n} iterations, not the preset's {full}: {why}."
        return f"Every run trained {n} iterations."
    text = "Iterations trained: " + ", ".join(f"{name} {n}" for name, n in trained.items()) + "."
    return f"{text} {_sentence(why)}." if why else text


#: how the page names each phase of report.json's ``phase_seconds``
PHASE_NAMES = {
    "corpus": "corpus",
    "training": "training",
    "tables": "Tables II-III",
    "matrix": "matrix",
    "listening": "listening excerpts",
    "speed": "Table IV",
    "page": "figures and page",
}


def wall_time_text(report: dict[str, Any]) -> str:
    """``Wall time: 530 s (training 380 s, matrix 80 s, ...).``: the whole run and its phases (s), the
    longest first; phases under half a second are left out (reused runs and cached results)."""
    phases = sorted(report.get("phase_seconds", {}).items(), key=lambda item: -item[1])
    shown = [f"{PHASE_NAMES.get(name, name)} {seconds:.0f} s" for name, seconds in phases if seconds >= 0.5]
    return f"Wall time: {report['wall_seconds']:.0f} s" + (f" ({', '.join(shown)})." if shown else ".")


def machine() -> str:
    gpu = f", GPU {torch.cuda.get_device_name(0)}" if torch.cuda.is_available() else ""
    return f"{platform.platform()}, {os.cpu_count()} CPU cores{gpu}, torch {torch.__version__}, audioenh {__version__}"


def write_markdown(path: Path, report: dict[str, Any]) -> None:
    parts = [
        f"# Generalization report — preset `{report['preset']}`",
        "",
        f"{_sentence(report['preset_settings']['description'])}. Data: `{', '.join(report['data'])}`. "
        f"Seen filter `{report['seen']}`, unseen filter `{report['unseen']}`, multi-filter set "
        f"{', '.join('`' + s + '`' for s in report['multi'])}.",
        "",
        f"Machine: {report['machine']}. {wall_time_text(report)} {budget_text(report)}".rstrip(),
        "",
        finding_text(report),
        "",
    ]
    if report.get("matrix"):
        parts += [f"## {MATRIX_TITLE}", "", *matrix_pages.markdown_section(report["matrix"], level=3)]
    for title, (header, rows) in tables(report).items():
        parts += [f"## {title}", "", md_table(header, rows), ""]
    for spec, reason in report.get("unavailable_metrics", {}).items():
        parts += [f"Metric `{spec}` is unavailable on this machine and left out: {reason}", ""]
    for name, (file, caption) in FIGURES.items():
        parts += [f"## {caption}", "", f"![{name}]({file})", ""]
    parts += _md_audio(report)
    write_text(path, "\n".join(parts))


def write_html(path: Path, report: dict[str, Any], figure_dir: Path) -> None:
    """A single self-contained page: tables, PNG figures and Ogg audio inlined as data URIs; it never
    scrolls sideways (wide tables scroll inside their own box)."""
    parts = [
        f"<h1>Generalization report — preset <code>{html.escape(report['preset'])}</code></h1>",
        f"<p>{html.escape(_sentence(report['preset_settings']['description']))}. Data: "
        f"<code>{html.escape(', '.join(report['data']))}</code>. Seen filter <code>{report['seen']}</code>, unseen "
        f"filter <code>{report['unseen']}</code>.</p>",
        f"<p>Machine: {html.escape(report['machine'])}. {html.escape(wall_time_text(report))} "
        f"{inline(budget_text(report))}</p>",
        f"<p class='finding'>{inline(finding_text(report))}</p>",
    ]
    if report.get("matrix"):
        parts += [f"<h2>{MATRIX_TITLE}</h2>", *matrix_pages.html_section(report["matrix"], figure_dir, level=3)]
    for title, (header, rows) in tables(report).items():
        parts += [f"<h2>{html.escape(title)}</h2>", html_table(header, rows)]
    for spec, reason in report.get("unavailable_metrics", {}).items():
        parts.append(
            f"<p>Metric <code>{html.escape(spec)}</code> is unavailable on this machine and left out: "
            f"{html.escape(reason)}</p>"
        )
    for name, (file, caption) in FIGURES.items():
        data = base64.b64encode((figure_dir / file).read_bytes()).decode()
        parts += [f"<h2>{html.escape(caption)}</h2>", f"<img alt='{name}' src='data:image/png;base64,{data}'>"]
    parts += _html_audio(report, figure_dir)
    css = (
        "code{overflow-wrap:anywhere}audio{width:100%;min-width:8em;max-width:22em}"
        ".finding{background:#f7f7ee;padding:.8em;border-left:4px solid #bb5}"
    )
    title = f"audioenh generalization report ({report['preset']})"
    write_text(path, html_page(title, parts, max_width=1150, css=css))


def write_json(path: Path, report: dict[str, Any]) -> None:
    """report.json: strict JSON (non-finite numbers as null), written atomically."""
    _write_json(path, report, indent=1)


AUDIO_DIR = "audio"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "clip"


def write_clips(out_dir: Path, experiment: Experiment) -> dict[str, Any]:
    """Write the excerpt's clips as Ogg Vorbis files under ``out_dir/audio``; returns the listening table:
    ``{"columns": [filter specs], "rows": [{"name": ..., "files": {column: path relative to out_dir}}]}``
    (the target's row has one file, under the first column)."""
    import io

    import soundfile as sf

    from ..fileio import write_bytes

    columns = [spec for spec in experiment.clips if spec != "target"]
    rows: dict[str, dict[str, str]] = {}
    for spec, clips in experiment.clips.items():
        for name, audio in clips.items():
            relative = f"{AUDIO_DIR}/{_slug(name)}-{_slug(spec)}.ogg"
            peak = float(np.max(np.abs(audio))) if audio.size else 0.0
            scaled = np.asarray(audio / peak * 0.99 if peak > 0.99 else audio, dtype=np.float32)  # Vorbis: [-1, 1]
            buffer = io.BytesIO()
            sf.write(buffer, scaled.T, experiment.sample_rate, format="OGG", subtype="VORBIS")
            write_bytes(out_dir / relative, buffer.getvalue())
            rows.setdefault(name, {})[columns[0] if spec == "target" else spec] = relative
    return {"columns": columns, "rows": [{"name": n, "files": f} for n, f in rows.items()]}


def _listening_intro(report: dict[str, Any]) -> str:
    return (
        f"The Fig. 4 excerpt ({report['preset_settings']['excerpt_seconds']:g} s of the first test song) as "
        f"degraded by the seen filter `{report['seen']}` and the unseen filter `{report['unseen']}`, and as each "
        "model restores it (Ogg Vorbis)."
    )


def _html_audio(report: dict[str, Any], out_dir: Path) -> list[str]:
    listening = report.get("listening")
    if not listening:
        return []
    columns = listening["columns"]
    head = "<th></th>" + "".join(f"<th>{inline(f'`{c}`')}</th>" for c in columns)
    body = []
    for row in listening["rows"]:
        cells = []
        for c in columns if row["name"] != "target" else columns[:1]:
            data = base64.b64encode((out_dir / row["files"][c]).read_bytes()).decode()
            span = f" colspan='{len(columns)}'" if row["name"] == "target" else ""
            cells.append(
                f"<td{span}><audio controls preload='auto' aria-label='{html.escape(row['name'])} {html.escape(c)}' "
                f"src='data:audio/ogg;base64,{data}'></audio></td>"
            )
        body.append(f"<tr><td>{html.escape(row['name'])}</td>{''.join(cells)}</tr>")
    table = f"<div class='scroll'><table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
    return ["<h2>Listen — the Fig. 4 excerpt</h2>", f"<p>{inline(_listening_intro(report))}</p>", table]


def _md_audio(report: dict[str, Any]) -> list[str]:
    listening = report.get("listening")
    if not listening:
        return []
    columns = listening["columns"]
    rows = [
        [row["name"]] + [f"[listen]({row['files'][c]})" if c in row["files"] else "" for c in columns]
        for row in listening["rows"]
    ]
    header = ["", *(f"`{c}`" for c in columns)]
    return ["## Listen — the Fig. 4 excerpt", "", _listening_intro(report), "", md_table(header, rows), ""]


def write_report(out_dir: Path, experiment: Experiment) -> dict[str, Any]:
    """Write the figures, report.json, report.md and report.html of ``experiment`` into ``out_dir``."""
    from . import figures

    started = time.monotonic()
    report = dict(experiment.report, machine=machine())
    if experiment.clips:
        report["listening"] = write_clips(out_dir, experiment)
    figures.filter_responses(out_dir / FIGURES["fig2"][0], report["multi"], [report["unseen"]])
    figures.validation_curves(out_dir / FIGURES["fig3"][0], report["curves"], report["unseen"])
    figures.spectrograms(out_dir / FIGURES["fig4"][0], experiment.panels, "target", experiment.sample_rate)
    if report.get("matrix"):
        matrix_pages.write_figures(out_dir, report["matrix"])
    # the page's own time (its figures; writing the text is negligible) counts in the wall time too
    page_seconds = time.monotonic() - started
    report["phase_seconds"] = {**report.get("phase_seconds", {}), "page": page_seconds}
    report["wall_seconds"] = report["wall_seconds"] + page_seconds
    write_json(out_dir / "report.json", report)
    write_markdown(out_dir / "report.md", report)
    write_html(out_dir / "report.html", report, out_dir)
    return report
