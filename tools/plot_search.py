"""Plot tools/quick_search.sh output: validation ΔSNR (seen and unseen) against iterations.

python tools/plot_search.py search.json docs/figures/quick_search.png
"""

import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

runs = json.load(open(sys.argv[1]))
configs = sorted({name.split("-")[0] for name in runs})
fig, axes = plt.subplots(1, len(configs), figsize=(4 * len(configs), 3.6), sharey=True, constrained_layout=True)
for ax, config in zip(axes, configs):
    for kind, color in (("base", "C0"), ("da", "C1")):
        records = runs.get(f"{config}-{kind}", [])
        its = [r["iteration"] for r in records]
        for group, style in (("seen", "-"), ("butter:6", ":")):
            delta = [r["val"][group]["output"] - r["val"][group]["input"] for r in records]
            label = f"{'baseline' if kind == 'base' else 'DA'} {'seen' if group == 'seen' else 'unseen butter:6'}"
            ax.plot(its, delta, style, color=color, label=label)
    ax.axhline(0, color="k", lw=0.6)
    ax.set(title=f"config {config}", xlabel="iteration", ylim=(-4, 4.5))
    ax.grid(alpha=0.3)
axes[0].set_ylabel("validation ΔSNR (dB)")
axes[0].legend(fontsize=7)
fig.savefig(sys.argv[2], dpi=100)
