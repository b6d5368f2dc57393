"""Add the response validation (:mod:`audioenh.evaluation.response_validation`) to existing checkpoints.

``audioenh train`` validates a model's training responses at the end of training; checkpoints written
before (runs, bundled models) have none, and safe mode then trusts every training response. This
validates each given checkpoint on the validation split of its training data (or ``--data``) and
writes the result into it, atomically (``--output`` writes a copy instead: one checkpoint only).

    python tools/validate_responses.py report/runs/resnet-recipe report/runs/resnet-da
    python tools/validate_responses.py src/audioenh/models/resnet-gentle.pt --data builtin
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from audioenh.checkpoint import load_model, resolve_checkpoint, save_checkpoint, training_degradations
from audioenh.data.corpus import resolve_corpus
from audioenh.errors import AudioenhError
from audioenh.evaluation.inference import select_device
from audioenh.evaluation.response_validation import PositionGain, validate_on_songs
from audioenh.precision import resolve_precision


def summary(validation: dict) -> str:
    """One line: how many responses were validated, and how many of their positions."""
    responses = validation["responses"]
    kept = [r for r in responses if r["validated_range_hz"]]
    positions = sum(len(r["positions"]) for r in responses)
    good = sum(1 for r in responses for p in r["positions"] if PositionGain(**p).validated)
    return f"{len(kept)} of {len(responses)} training responses validated ({good} of {positions} positions)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkpoints", nargs="+", help="run folders or checkpoint files")
    parser.add_argument("--data", action="append", help="corpus (default: each checkpoint's training data)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--output", type=Path, help="write the validated copy here (one checkpoint only)")
    parser.add_argument("-q", "--quiet", action="store_true")
    args = parser.parse_args(argv)
    if args.output is not None and len(args.checkpoints) != 1:
        parser.error("--output takes one checkpoint")
    device = select_device(args.device)
    for source in args.checkpoints:
        path = Path(resolve_checkpoint(source))
        model, checkpoint = load_model(path, device)
        data = args.data or list(checkpoint.get("config", {}).get("data", []) or ["builtin"])
        corpus = resolve_corpus(data, echo=lambda m: None, progress=False)
        precision = resolve_precision(
            checkpoint.get("config", {}).get("precision", "fp32"), device, str(checkpoint["arch"])
        )
        validation = validate_on_songs(
            model,
            training_degradations(checkpoint),
            corpus.val,
            int(checkpoint["sample_rate"]),
            device,
            precision,
            progress=not args.quiet,
        )
        checkpoint["response_validation"] = validation
        save_checkpoint(args.output or path, checkpoint)
        print(f"{source}: {summary(validation)}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except AudioenhError as exc:  # a missing or foreign checkpoint, a corpus without validation songs, ...
        sys.exit(f"error: {exc}")
