"""``audioenh model-info``: parameters and multiply-accumulates of an architecture, and what a trained
model (bundled, a run or a checkpoint file) is."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import AudioenhError
from ..plugins import architectures
from .options import echo_json, json_option


@click.command("model-info")
@click.argument("model_ref", metavar="[MODEL]", required=False)
@click.option("-a", "--arch", "spec", metavar="SPEC", help="Architecture spec, e.g. unet or resnet:dropout=0.5.")
@click.option("--batch", default=8, show_default=True, type=click.IntRange(min=1), help="Batch size for the MAC count.")
@click.option(
    "--samples",
    default=8192,
    show_default=True,
    type=click.IntRange(min=1),
    help="Samples per channel for the MAC count.",
)
@click.option("--channels", default=2, show_default=True, type=click.IntRange(min=1), help="Audio channels.")
@json_option('Print JSON: {"params": int, "macs": float} (with MODEL also "model": {...}, what it is).')
def model_info(model_ref: str | None, spec: str | None, batch: int, samples: int, channels: int, as_json: bool):
    """Parameter count and MACs of one forward pass over BATCH x CHANNELS x SAMPLES, of an
    architecture (-a SPEC) or of a trained MODEL: a bundled model's name (audioenh list models), a
    training run folder or a checkpoint file, which is also described (training, data, licence).
    A bundled bank (auto) is described model by model, each with its own counts (JSON: the
    largest of them at the top level).

    MACs count convolution multiply-accumulates without bias additions (the paper's Table IV:
    415.3 G for the U-Net and 3608.3 G for the ResNet on 8 x 2 x 8192).
    """
    import functools

    import torch

    from ..architectures import count_macs, count_parameters
    from ..pretrained import bank as bundled_bank

    if (model_ref is None) == (spec is None):
        raise click.UsageError("give either a MODEL or -a/--arch SPEC")
    about, bank, members = None, None, []
    if model_ref is not None and not Path(model_ref).exists() and model_ref.split(":")[0] in architectures():
        raise AudioenhError(f"{model_ref!r} is an architecture spec, not a model; give it with -a/--arch")
    if model_ref is not None:
        bank = bundled_bank(model_ref)
        members = [describe_model(name) for name in bank.members] if bank else [describe_model(model_ref)]
        about = members[0]
        spec = about["architecture"]
        channels = about["audio_channels"]
    registry = architectures()

    def counted(arch: str, arch_channels: int) -> tuple[int, float]:
        registry.bind(arch)  # unknown names and bad arguments fail here, before any work
        with torch.device("meta"):
            params = count_parameters(_build(registry, arch, arch_channels))
        build = functools.partial(_build, registry, arch, arch_channels)
        return params, count_macs(build, batch=batch, channels=arch_channels, samples=samples)

    if bank:  # each model its own counts (one runs per input); the bank's are the largest
        for member in members:
            member["params"], member["macs"] = counted(member["architecture"], member["audio_channels"])
        params, macs = max(m["params"] for m in members), max(m["macs"] for m in members)
    else:
        params, macs = counted(spec, channels)
    if as_json:
        extra = {"model": about} if about else {}
        if bank:
            extra["bank"] = {"name": bank.name, "summary": bank.summary, "members": members}
        echo_json({"params": params, "macs": macs, **extra})
        return
    if bank:
        click.echo(f"bank           {bank.name}: {bank.summary}")
        click.echo(f"models         {len(members)}, one of which runs per input")
        for member in members:
            click.echo("")
            _echo_model(member)
            counts = member["params"], member["macs"], batch, member["audio_channels"], samples
            _echo_counts(registry, member["architecture"], *counts)
        return
    if about:
        _echo_model(about)
    _echo_counts(registry, spec, params, macs, batch, channels, samples)


def _echo_counts(registry, spec: str, params: int, macs: float, batch: int, channels: int, samples: int) -> None:
    per_second = macs / (batch * samples) * 44100
    click.echo(f"architecture   {registry.canonical(spec)}")
    click.echo(f"parameters     {params:,}")
    click.echo(f"MACs           {macs / 1e9:.1f} G for {batch} x {channels} x {samples} samples")
    click.echo(f"MACs / second  {per_second / 1e9:.1f} G per second of 44.1 kHz audio")


def describe_model(reference: str) -> dict:
    """What a trained model is, from its checkpoint: name, architecture, rate (Hz), the level (dBFS) its
    input is scaled to where it names one, training degradations and budget, validation gain (dB) and,
    for bundled models, their card."""
    from ..checkpoint import load_checkpoint, training_degradations, validated_gain_db
    from ..evaluation.level import input_level_db
    from ..pretrained import model_label, resolve_model

    source = resolve_model(reference)
    checkpoint = load_checkpoint(source)
    config = checkpoint.get("config") or {}
    return {
        "model": model_label(source),
        "arch": checkpoint["arch"],
        "architecture": str(checkpoint.get("architecture") or checkpoint["arch"]),
        "audio_channels": int(checkpoint.get("audio_channels", 2)),
        "sample_rate": int(checkpoint["sample_rate"]),
        "input_level_db": input_level_db(checkpoint),
        "degradations": list(checkpoint.get("degradations") or []),
        "resolved_degradations": training_degradations(checkpoint),
        "iterations": checkpoint.get("iteration"),
        "batch_size": config.get("batch_size"),
        "chunk": config.get("chunk"),
        "data": config.get("data"),
        "validated_gain_db": validated_gain_db(checkpoint),
        "responses_validated": responses_validated(checkpoint),
        "versions": checkpoint.get("versions"),
        "card": checkpoint.get("card"),
    }


def responses_validated(checkpoint: dict) -> dict | None:
    """How many of the checkpoint's training responses safe mode trusts after its response validation
    (:mod:`audioenh.evaluation.response_validation`); ``None`` when it was never validated."""
    from ..checkpoint import validated_ranges

    ranges = validated_ranges(checkpoint)
    if ranges is None:
        return None
    return {"validated": len(ranges), "responses": len(checkpoint["response_validation"]["responses"])}


def _echo_model(about: dict) -> None:
    click.echo(f"model          {about['model']}")
    card = about.get("card") or {}
    if card.get("summary"):
        click.echo(f"summary        {card['summary']}")
    click.echo(f"sample rate    {about['sample_rate']} Hz, {about['audio_channels']} channels")
    if about.get("input_level_db") is not None:
        click.echo(f"input level    {about['input_level_db']:g} dBFS RMS (each input is scaled to it and back)")
    click.echo(f"trained on     {', '.join(about['degradations']) or 'unknown degradations'}")
    budget = [f"{about['iterations']} iterations" if about.get("iterations") is not None else None]
    if about.get("batch_size") and about.get("chunk"):
        budget.append(f"batch {about['batch_size']} x {about['chunk']} samples")
    if any(budget):
        click.echo(f"training       {', '.join(b for b in budget if b)}")
    if about.get("data"):
        click.echo(f"data           {', '.join(about['data'])}")
    if about.get("validated_gain_db") is not None:
        click.echo(f"validation     {about['validated_gain_db']:+.2f} dB SNR on its training degradations")
    validated = about.get("responses_validated")
    if validated is not None:
        click.echo(
            f"safe mode      trusted on {validated['validated']} of {validated['responses']} training band limits "
            "(those it gained on in safe mode on its validation songs)"
        )
    for key in ("command", "data_licence", "licence", "card"):
        if card.get(key):
            click.echo(f"{key.replace('_', ' '):<15}{card[key]}")


def _build(registry, spec: str, channels: int):
    if channels != 2:
        return registry.create(spec, audio_channels=channels)
    return registry.create(spec)
