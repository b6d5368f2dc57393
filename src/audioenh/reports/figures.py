"""Figures of the generalization report, as PNG files (matplotlib, no display needed)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from scipy import signal  # noqa: E402

from ..plugins import degradations  # noqa: E402

DPI = 110


def filter_responses(path: Path, training: Sequence[str], unseen: Sequence[str], sample_rate: int = 44100) -> Path:
    """Fig. 2: zero-phase magnitude responses (|H|^2, dB) of the training filters, unseen ones dashed."""
    freqs = np.linspace(1, sample_rate / 2 - 1, 4000)
    fig, (full, zoom) = plt.subplots(1, 2, figsize=(11, 4), constrained_layout=True)
    for spec in list(dict.fromkeys(training)) + list(unseen):
        response = degradations().create(spec).magnitude_response_db(freqs, sample_rate)
        style = dict(ls="--", lw=2.2, color="k") if spec in unseen else dict(lw=1.2)
        label = f"{spec} (unseen)" if spec in unseen else spec
        for ax in (full, zoom):
            ax.plot(freqs / 1000, response, label=label, **style)
    full.set(
        xlim=(0, sample_rate / 2000),
        ylim=(-120, 5),
        xlabel="frequency (kHz)",
        ylabel="magnitude (dB)",
        title="Low-pass filters, zero-phase (|H|²)",
    )
    zoom.set(xlim=(8, 14), ylim=(-60, 3), xlabel="frequency (kHz)", title="around the 11.025 kHz cutoff")
    for ax in (full, zoom):
        ax.grid(alpha=0.3)
    zoom.legend(fontsize=8, loc="lower left")
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


def validation_curves(path: Path, runs: Mapping[str, Mapping[str, list[dict]]], unseen: str) -> Path:
    """Fig. 3: validation SNR against iterations, per architecture; input SNRs dashed.

    ``runs[arch][variant]`` is that run's list of records (``metrics.jsonl``).
    """
    archs = list(runs)
    fig, axes = plt.subplots(len(archs), 2, figsize=(11, 3.6 * len(archs)), squeeze=False, constrained_layout=True)
    for row, arch in enumerate(archs):
        for col, (group, title) in enumerate((("seen", "seen filter(s)"), (unseen, f"unseen filter {unseen}"))):
            ax = axes[row][col]
            inputs: dict[float, list[str]] = {}  # one dashed line per distinct input, naming who sees it
            for i, (variant, records) in enumerate(runs[arch].items()):
                its = [r["iteration"] for r in records if group in r.get("val", {})]
                out = [r["val"][group]["output"] for r in records if group in r.get("val", {})]
                inp = [r["val"][group]["input"] for r in records if group in r.get("val", {})]
                if not its:
                    continue
                ax.plot(its, out, color=f"C{i}", marker="o", ms=3, label=f"{variant}")
                inputs.setdefault(round(float(np.mean(inp)), 2), []).append(variant)
            for j, (level, variants) in enumerate(sorted(inputs.items())):
                who = "" if len(inputs) == 1 else f" ({', '.join(variants)})"
                ax.axhline(level, color=("0.35", "0.6", "0.8")[j % 3], ls="--", lw=1.0, label=f"input{who}")
            ax.set(xlabel="iteration", ylabel="validation SNR (dB)", title=f"{arch}: {title}")
            ax.grid(alpha=0.3)
            ax.legend(fontsize=8, title="output; input dashed", title_fontsize=8)
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


def training_curves(path: Path, records: Sequence[Mapping], title: str) -> dict:
    """One run's curves from its ``metrics.jsonl`` records: the training loss (log scale) with the
    learning rate, and the validation gain (output SNR minus input SNR, dB) of each validation group
    (the seen degradation(s), the unseen one). Returns the series drawn."""
    iterations = [r["iteration"] for r in records]
    groups = list(dict.fromkeys(g for r in records for g in r.get("val", {})))
    gains = {
        g: [(r["iteration"], r["val"][g]["output"] - r["val"][g]["input"]) for r in records if g in r.get("val", {})]
        for g in groups
    }
    fig, (loss_ax, val_ax) = plt.subplots(1, 2, figsize=(11, 3.8), constrained_layout=True)
    loss_ax.semilogy(iterations, [r["loss"] for r in records], "o-", ms=3, color="C0", label="training loss")
    loss_ax.set(xlabel="iteration", ylabel="loss (mean over the record)", title=f"{title}: training")
    lr_ax = loss_ax.twinx()
    lr_ax.step(iterations, [r["lr"] for r in records], where="post", color="0.5", ls="--", lw=1, label="learning rate")
    lr_ax.set(ylabel="learning rate", yscale="log")
    handles = loss_ax.get_legend_handles_labels()[0] + lr_ax.get_legend_handles_labels()[0]
    loss_ax.legend(handles, [h.get_label() for h in handles], fontsize=8)
    for i, (group, points) in enumerate(gains.items()):
        name = "seen (training degradations)" if group == "seen" else f"{group} (unseen)"
        val_ax.plot([p[0] for p in points], [p[1] for p in points], "o-", ms=3, color=f"C{i + 1}", label=name)
    val_ax.axhline(0, color="0.4", lw=0.8)
    val_ax.set(xlabel="iteration", ylabel="validation ΔSNR (dB)", title=f"{title}: validation gain")
    for ax in (loss_ax, val_ax):
        ax.grid(alpha=0.3)
    if gains:
        val_ax.legend(fontsize=8)
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return {"iterations": iterations, "loss": [r["loss"] for r in records], "gains_db": gains}


def _spectrogram_db(audio: np.ndarray, sample_rate: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    mono = audio.mean(axis=0)
    f, t, z = signal.stft(mono, fs=sample_rate, window="hann", nperseg=1024, noverlap=512)
    return f, t, 20 * np.log10(np.abs(z) + 1e-8)


def spectrograms(path: Path, panels: Mapping[str, np.ndarray], target_name: str, sample_rate: int = 44100) -> Path:
    """Fig. 4: spectrograms (1024-sample Hann, 50 % overlap, mono downmix) and |difference| from the target.

    ``panels`` maps a title to (channels, samples) audio; ``target_name`` names the reference.
    """
    target = panels[target_name]
    names = list(panels)
    fig, axes = plt.subplots(
        len(names), 2, figsize=(11, 2.2 * len(names)), squeeze=False, constrained_layout=True, sharex=True, sharey=True
    )
    _, _, ref_db = _spectrogram_db(target, sample_rate)
    vmax = ref_db.max()
    for row, name in enumerate(names):
        f, t, db = _spectrogram_db(panels[name], sample_rate)
        _, _, diff = _spectrogram_db(panels[name] - target, sample_rate)
        for col, (values, title) in enumerate(((db, name), (diff, f"|{name} − target|"))):
            ax = axes[row][col]
            mesh = ax.pcolormesh(t, f / 1000, values, vmin=vmax - 100, vmax=vmax, cmap="magma", shading="auto")
            ax.set_title(title, fontsize=9)
            ax.axhline(11.025, color="w", lw=0.6, ls=":")
            if col == 0:
                ax.set_ylabel("kHz")
    for ax in axes[-1]:
        ax.set_xlabel("time (s)")
    fig.colorbar(mesh, ax=axes, shrink=0.6, label="dB")
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path
