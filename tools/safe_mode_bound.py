"""How much of a model's raw gain safe mode could keep at most, song by song.

Safe mode (``enhance``'s default) keeps the input below the crossover at the band edge and adds the
network's contribution above it only as far as it trusts the model there, held to the music's level.
This tool scores, for each model and song, the raw output (the network's), the safe output (exactly as
``audioenh matrix`` scores it, self-test included) and the *bound*: the network's output above the same
crossover, fully trusted, not level-limited and not self-tested. ``bound / raw`` is the share of the
raw gain the do-no-harm contract itself ("below the edge the output is the input") leaves a model; the
rest of the raw gain is what the network changed below the edge (a filter's pass-band ripple, for
instance). Songs are cut and degraded as the matrix does (a centred excerpt, degraded with seed [0, song]).

    python tools/safe_mode_bound.py B=runs/resnet-baseline DA=runs/resnet-da --degrade cheby1:6 \\
        --data real --split test --seconds 4
"""

from __future__ import annotations

import argparse

import numpy as np


def main(argv: list[str] | None = None) -> list[tuple[str, float, float, float]]:
    """Print the table; return ``(name, raw, safe, bound)`` mean ΔSNRs (dB) per model."""

    from audioenh.analysis.bandwidth import recording_edge
    from audioenh.checkpoint import load_model
    from audioenh.data.corpus import resolve_corpus
    from audioenh.degradations.chain import DegradationSampler, resolve_degradations
    from audioenh.evaluation.crossover import keep_below_edge, network_run
    from audioenh.evaluation.matrix import centred_excerpt
    from audioenh.evaluation.selection import Candidate, choose_restoration
    from audioenh.evaluation.self_test import self_tested
    from audioenh.plugins import metrics
    from audioenh.pretrained import resolve_model

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="+", help="[NAME=]MODEL: a run folder, checkpoint or bundled model's name")
    parser.add_argument("--degrade", "-d", required=True, help="one degradation spec (the cell)")
    parser.add_argument("--data", default="builtin")
    parser.add_argument("--split", default="test", choices=("train", "val", "test"))
    parser.add_argument("--seconds", type=float, default=4.0, help="centred excerpt of each song (s)")
    args = parser.parse_args(argv)

    rate = 44100
    snr = metrics().create("snr")
    songs = resolve_corpus([args.data], progress=False).split(args.split)
    cell = resolve_degradations([args.degrade])[0]
    sampler = DegradationSampler(cell.canonical, rate)
    inputs = []
    for i, song in enumerate(songs):
        audio = song.read()
        target = audio[:, centred_excerpt(audio, args.seconds, rate)]
        degraded = np.asarray(sampler.degrade(target, rate, np.random.default_rng([0, i]))[0], dtype=np.float32)
        inputs.append((song.name, target, degraded, recording_edge(degraded, rate)))
    print(f"{cell.text}, {len(songs)} {args.split} songs of {args.data}, {args.seconds:g}-s excerpts; ΔSNR in dB")
    print(f"{'model':<12} {'song':<28} {'edge':>7} {'trust':>5} {'raw':>7} {'safe':>7} {'bound':>7}")
    means = []
    for given in args.models:
        name, _, source = given.rpartition("=")
        model, checkpoint = load_model(resolve_model(source))
        model.eval()
        candidate = Candidate.of(checkpoint)
        run = network_run(model, rate)  # the network as the matrix runs it
        rows = []
        for song, target, degraded, edge in inputs:
            _, plan = choose_restoration(degraded, rate, rate, [candidate], edge)
            raw = run(degraded)
            plan = self_tested(plan, degraded, rate, run)
            safe = degraded.copy()
            if not plan.skip:
                safe, _ = plan.apply(degraded, raw, rate)
            bound = keep_below_edge(degraded, raw, plan.taps, 1.0)
            before = snr(target, degraded, rate)
            row = [snr(target, out, rate) - before for out in (raw, safe, bound)]
            rows.append(row)
            scores = " ".join(f"{v:+7.2f}" for v in row)
            print(f"{name or source:<12} {song:<28} {edge:7.0f} {plan.gain:5.2f} {scores}")
        raw, safe, bound = np.mean(rows, axis=0)
        print(
            f"{name or source:<12} {'mean':<28} {'':>7} {'':>5} {raw:+7.2f} {safe:+7.2f} {bound:+7.2f}"
            f"   safe/raw {safe / raw:.0%}, bound/raw {bound / raw:.0%}"
        )
        means.append((name or source, float(raw), float(safe), float(bound)))
    return means


if __name__ == "__main__":
    main()
