"""Train the models bundled with audioenh and write them into the package, reproducibly.

    python tools/train_bundled_model.py               # every bundled model, into runs/bundled-NAME
    python tools/train_bundled_model.py resnet-16k    # one of them
    python tools/train_bundled_model.py resnet-da --iterations 200 --run /tmp/b --output /tmp/b.pt   # a trial
    python tools/train_bundled_model.py resnet-8k --arch resnet:width=16,blocks=12,kernel=7 --iterations 12000 \
        --run /tmp/deep --output /tmp/deep.pt                                                       # another size

Each model is one ``audioenh train`` run on the built-in corpus (procedural music generated here
from a seed: no third-party audio, so the weights may be redistributed under the project's MIT
licence), then an inference checkpoint (:func:`audioenh.checkpoint.inference_checkpoint`: no
optimizer state) with a model card (how it was made, the data and its licence, the wall time and
machine) written atomically to ``src/audioenh/pretrained/NAME.pt`` (docs/model.md). The bank
``auto`` (``audioenh.pretrained.BANKS``) picks one of them per input. The real-recording set
(docs/real-recordings.md) is never used: it is kept for evaluation.
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE_DIR = ROOT / "src" / "audioenh" / "pretrained"

#: every bundled model: the quick ResNet on one family of band limits
ARCH = "resnet:width=16,blocks=6,kernel=7"
#: the bank's specialists: their validation still rose from 12,000 to 30,000 steps (resnet-11k +2.43
#: -> +2.72 dB, the bank's 11025-Hz matrix mean +1.48 -> +1.75 dB: docs/recipes.md)
ITERATIONS = 30000
#: the 11025-Hz Chebyshev II / elliptic model: twice the blocks, so its receptive field (151 samples,
#: 3.4 ms) resolves the steep stop-band edges it undoes (docs/recipes.md: a deeper specialist)
DEEP_ARCH = "resnet:width=16,blocks=12,kernel=7"
COMMON_ARGS = [
    "--data", "builtin", "--chunk", "2048", "--batch-size", "16", "--lr", "3e-3",
    "--val-offset", "1", "--val-seconds", "4", "--seed", "0", "--precision", "fp32",
]  # fmt: skip


#: every bundled model runs with its input scaled to this RMS level (dBFS; docs/enhance.md): chosen on the
#: validation split, where the bank gained most at -16 (+1.56 dB over the full matrix in safe mode, +1.49
#: at the input's own level, +1.52 at -19, +1.54 at -13); the training songs average -19 dBFS
INPUT_LEVEL_DB = -16.0

#: the newer specialists end with the lr decaying to 0 over their last 10,000 steps (`train --lr-decay`):
#: a Chebyshev II model's validation swung between +1.8 and +2.8 dB from record to record at a constant
#: lr and held +2.98 dB over the last three records with the decay (docs/recipes.md)
LATE_DECAY = ["--lr-decay", "10000"]


#: the loss weighs the error below 9 kHz by 0.1 (`train --loss-split`): safe mode keeps the input below the
#: band edge, so the network's work there is discarded. On the validation split the Chebyshev II model
#: trained so gained +4.21 dB on its own cells against +3.67, and the bank's 11025-Hz mean rose from
#: +2.27 to +2.49 dB (docs/recipes.md)
BAND_LOSS = ["--loss-split", "9000", "--loss-below-weight", "0.1"]


def specialist(cutoff_hz: int) -> list[str]:
    """The specialist recipe: Chebyshev I orders 6, 8, 12 and elliptic 6, 12 at one cut-off (Hz),
    Butterworth 8 held out (docs/recipes.md: the 16-kHz specialist)."""
    shapes = [f"cheby1:order={n},cutoff={cutoff_hz}" for n in (6, 8, 12)]
    shapes += [f"ellip:order={n},cutoff={cutoff_hz}" for n in (6, 12)]
    args = [a for shape in shapes for a in ("--degrade", shape)]
    return [*args, "--unseen", f"butter:order=8,cutoff={cutoff_hz}", "--record-every", "2000"]


def steep(cutoff_hz: int) -> list[str]:
    """The steep recipe: steep IIR low-passes of four families at one cut-off (Hz), orders drawn per
    group of examples. Chebyshev I from order 6: order 4 attenuates from 3 kHz below its edge and
    matched 13-kHz Butterworth inputs, where the network lost 3 dB. No FIR or brick-wall low-pass:
    with nothing left above the edge the network learnt nothing there (-0.06 dB)."""
    families = ("cheby1:order=6..12", "cheby2:order=4..12", "ellip:order=4..12", "butter:order=8..12")
    args = [a for family in families for a in ("--degrade", f"{family},cutoff={cutoff_hz}")]
    return [*args, "--unseen", f"cheby1:order=8,cutoff={cutoff_hz}", "--record-every", "2000"]


def gentle(low_hz: int, high_hz: int) -> list[str]:
    """The gentle recipe: Butterworth orders 4-6 and Chebyshev I 4-5, the cut-off drawn from ``low_hz``
    to ``high_hz`` per group of examples. Gentle slopes look alike at cut-offs a kilohertz apart (a
    fixed 11025-Hz Butterworth-4 model was matched to 13-kHz inputs and lost 6.8 dB there), so this
    model is trained on every cut-off it may be matched to (docs/recipes.md: the gentle generalist)."""
    families = ("butter:order=4..6", "cheby1:order=4..5")
    args = [a for family in families for a in ("--degrade", f"{family},cutoff={low_hz}..{high_hz}")]
    return [*args, "--unseen", "butter:order=5,cutoff=12000", "--record-every", "2000"]


@dataclass(frozen=True)
class Recipe:
    """How one bundled model is trained: ``audioenh train`` arguments besides :data:`COMMON_ARGS`."""

    args: list[str]
    summary: str
    iterations: int = ITERATIONS
    arch: str = ARCH


RECIPES = {
    # the paper's multi-filter augmentation (DA), the best recipe on the quick matrix's validation split
    # in safe mode (docs/recipes.md)
    "resnet-da": Recipe(
        ["--degrade", "paper-multi", "--unseen", "butter:6", "--record-every", "1000"],
        "small ResNet (16 channels, 6 blocks of 7-tap convolutions) trained on the paper's eight "
        "low-pass filters at 11025 Hz (paper-multi); restores the band above the input's band edge",
        iterations=12000,  # not in the bank: left as it was shipped
    ),
    **{
        f"resnet-{hz // 1000}k": Recipe(
            steep(hz),
            "small ResNet (16 channels, 6 blocks of 7-tap convolutions) trained on steep low-passes of four "
            f"families at {hz / 1000:g} kHz (Chebyshev I and II, elliptic, Butterworth); restores the band "
            "above the input's band edge",
        )
        for hz in (8000, 13000)
    },
    # at 11025 Hz two models of two families each in place of the four-family steep one: the bank's
    # 11025-Hz matrix mean +1.75 -> +1.87 dB on the built-in test split, +1.05 -> +1.23 dB on real
    # recordings (docs/recipes.md: a two-family 11025-Hz pair)
    "resnet-11k-cheby1": Recipe(
        [
            *("--degrade", "cheby1:order=6..12,cutoff=11025", "--degrade", "butter:order=8..12,cutoff=11025"),
            *("--unseen", "cheby1:order=8,cutoff=11025", "--record-every", "2000"),
            *LATE_DECAY,
        ],
        "small ResNet (16 channels, 6 blocks of 7-tap convolutions) trained on Chebyshev I (orders 6-12) "
        "and steep Butterworth (8-12) low-passes at 11025 Hz; restores the band above the input's band edge",
    ),
    "resnet-11k-cheby2": Recipe(
        [
            *("--degrade", "cheby2:order=4..12,cutoff=11025", "--degrade", "ellip:order=4..12,cutoff=11025"),
            *("--unseen", "cheby1:order=8,cutoff=11025", "--record-every", "2000"),
            *LATE_DECAY,
            *BAND_LOSS,
        ],
        "small ResNet (16 channels, 12 blocks of 7-tap convolutions) trained on Chebyshev II and elliptic "
        "low-passes (orders 4-12, stop bands at 20 dB) at 11025 Hz, its loss weighted towards the band above "
        "9 kHz; restores the band above the input's band edge",
        arch=DEEP_ARCH,
    ),
    # between 11025 and 13 kHz: at 12 kHz the 11-kHz specialist took steep Butterworth inputs for its
    # Chebyshev I 6 and lost up to 0.99 dB on real recordings (docs/model.md, Known limits)
    "resnet-12k": Recipe(
        [*steep(12000), *LATE_DECAY],
        "small ResNet (16 channels, 6 blocks of 7-tap convolutions) trained on steep low-passes of four "
        "families at 12 kHz (Chebyshev I and II, elliptic, Butterworth); restores the band above the "
        "input's band edge",
    ),
    # at 16 kHz the steep recipe lost 0.08-0.19 dB on real recordings on two of its own shapes
    # (Chebyshev I 12, elliptic 4) in safe mode; the two-family specialist loses on none
    "resnet-16k": Recipe(
        specialist(16000),
        "small ResNet (16 channels, 6 blocks of 7-tap convolutions) trained on Chebyshev I and elliptic "
        "low-passes at 16 kHz (the band of many MP3s); restores the band above the input's band edge",
    ),
    # between 13 and 16 kHz: at 14.5 kHz resnet-gentle took a steep Butterworth 12 (-0.10 dB)
    "resnet-14k": Recipe(
        [*steep(14500), *LATE_DECAY],
        "small ResNet (16 channels, 6 blocks of 7-tap convolutions) trained on steep low-passes of four "
        "families at 14.5 kHz (Chebyshev I and II, elliptic, Butterworth); restores the band above the "
        "input's band edge",
    ),
    # resnet-16k leaves Chebyshev II at 16 kHz alone (trust 0); with Chebyshev II in the 16-kHz steep
    # recipe the model lost on real recordings elsewhere, so it has a model of its own
    "resnet-16k-cheby2": Recipe(
        [
            "--degrade",
            "cheby2:order=4..12,cutoff=16000",
            "--unseen",
            "cheby2:order=6,cutoff=16000,rs=30",
            "--record-every",
            "2000",
            *LATE_DECAY,
        ],
        "small ResNet (16 channels, 6 blocks of 7-tap convolutions) trained on Chebyshev II low-passes "
        "(orders 4-12, 20 dB stopband) at 16 kHz; restores the band above the input's band edge",
    ),
    # the bank's steep models are trusted on none of the gentle slopes (Butterworth and Chebyshev I
    # order 4, Bessel); this one is, at any cut-off from 8 to 16 kHz
    "resnet-gentle": Recipe(
        gentle(8000, 16000),
        "small ResNet (16 channels, 6 blocks of 7-tap convolutions) trained on gentle low-passes "
        "(Butterworth orders 4-6, Chebyshev I 4-5) at cut-offs drawn from 8 to 16 kHz; restores the band "
        "above the input's band edge",
        # trained to 30,000 steps it lost up to 1.5 dB on 16-kHz Butterworth 4 and Bessel 4 inputs
        iterations=12000,
    ),
}


def training_seconds(run: Path) -> float | None:
    """Seconds of training behind ``run``'s last record, over every process that trained it (each
    record's ``seconds`` counts from its own process's start); ``None`` without records."""
    from audioenh.training.loop import read_records

    timed = [r["seconds"] for r in read_records(run) if r.get("seconds") is not None]
    if not timed:
        return None
    total, last = 0.0, 0.0
    for seconds in timed:
        if seconds < last:  # a resumed process started counting again
            total += last
        last = seconds
    return total + last


def degraded_cache_files() -> set[Path]:
    """The whole-song degradations cached for training (docs/data.md)."""
    from audioenh.cache import cache_subdir
    from audioenh.data.degraded import FOLDER

    folder = cache_subdir(FOLDER)
    return set(folder.glob("*.npy")) if folder.is_dir() else set()


def remove_new_cache_files(before: set[Path]) -> None:
    """Delete the whole-song degradations cached since ``before``: a four-family recipe caches every
    drawn filter's degradation of every training song (about 2.7 GB), and ten models' worth would
    fill a disk; other runs remake what they need."""
    new = degraded_cache_files() - before
    freed = 0
    for path in new:
        freed += path.stat().st_size
        path.unlink(missing_ok=True)
    if new:
        print(f"removed {len(new)} cached degraded songs ({freed / 1e9:.1f} GB)", flush=True)


def train(name: str, run: Path, output: Path, iterations: int, arch: str | None = None) -> None:
    """Train bundled model ``name`` in ``run`` (resumed when interrupted) and write its inference
    checkpoint with its card to ``output``; ``arch``: another architecture than the recipe's (trials)."""
    recipe = RECIPES[name]
    cached_before = degraded_cache_files()
    train_args = ["--arch", arch or recipe.arch, *COMMON_ARGS, *recipe.args, "--iterations", str(iterations)]
    if (run / "checkpoints" / "last.pt").exists():
        # a finished run is left as it is; an interrupted (or shorter) one goes on with the settings
        # its config.json fixes (resuming refuses them on the command line)
        given = ["--resume", "--iterations", str(iterations)]
    else:
        given = train_args
    command = [sys.executable, "-m", "audioenh", "train", *given, "--output", str(run)]
    started = time.time()
    print("$", shlex.join(command), flush=True)
    try:
        subprocess.run(command, check=True)
    finally:
        remove_new_cache_files(cached_before)
    wall = time.time() - started
    trained = training_seconds(run)  # a resumed run's earlier processes too
    wall = max(wall, trained) if trained is not None else wall

    import torch

    from audioenh.checkpoint import inference_checkpoint, load_checkpoint, save_checkpoint
    from audioenh.evaluation.level import LEVEL_KEY

    checkpoint = load_checkpoint(run)
    shown = shlex.join(["audioenh", "train", *train_args, "--output", "RUN"])
    card = {
        "summary": recipe.summary,
        "command": f"python tools/train_bundled_model.py {name}  (runs: {shown})",
        "data": "audioenh's built-in procedural corpus (builtin: 24 songs synthesised from seed 0, train split)",
        "data_licence": "generated by audioenh's own code (MIT); no third-party recordings",
        "licence": "MIT, like audioenh",
        "trained_seconds": round(wall, 1),
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip() + f", {os.cpu_count()} CPUs, "
        f"torch {torch.__version__}",
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    save_checkpoint(output, {**inference_checkpoint(checkpoint, card), LEVEL_KEY: INPUT_LEVEL_DB})
    validate_packaged(output)
    size = output.stat().st_size
    print(f"wrote {output} ({size / 1e6:.2f} MB) after {wall / 60:.1f} min of training", flush=True)


def validate_packaged(path: Path) -> None:
    """Validate the training responses of the model written to ``path`` as ``enhance`` runs it (at
    :data:`INPUT_LEVEL_DB`; training validated it at its training songs' level) on the built-in
    validation songs, and store the result in it (:mod:`audioenh.evaluation.response_validation`)."""
    from audioenh.checkpoint import load_model, save_checkpoint, training_degradations
    from audioenh.data.corpus import resolve_corpus
    from audioenh.evaluation.response_validation import validate_on_songs

    model, checkpoint = load_model(path)
    corpus = resolve_corpus(["builtin"], echo=lambda m: None, progress=False)
    specs = training_degradations(checkpoint)
    checkpoint["response_validation"] = validate_on_songs(model, specs, corpus.val, int(checkpoint["sample_rate"]))
    save_checkpoint(path, checkpoint)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    every = ", ".join(RECIPES)
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"models to train (default: all: {every})")
    parser.add_argument("--run", type=Path, help="training run folder (one NAME; default runs/bundled-NAME)")
    parser.add_argument("--output", type=Path, help="inference checkpoint to write (one NAME; default the package's)")
    parser.add_argument("--iterations", type=int, help="training steps (default: the recipe's, 30,000 or 12,000)")
    parser.add_argument("--arch", help="another architecture spec than the recipe's, for a trial (one NAME)")
    args = parser.parse_args()
    names = args.names or list(RECIPES)
    unknown = [n for n in names if n not in RECIPES]
    if unknown:
        parser.error(f"no bundled model is called {', '.join(unknown)}; bundled: {', '.join(RECIPES)}")
    if len(names) > 1 and (args.run or args.output or args.arch):
        parser.error("--run, --output and --arch take one NAME")
    for name in names:
        run = args.run or ROOT / "runs" / f"bundled-{name}"
        output = args.output or PACKAGE_DIR / f"{name}.pt"
        train(name, run, output, args.iterations or RECIPES[name].iterations, args.arch)
    return 0


if __name__ == "__main__":
    sys.exit(main())
