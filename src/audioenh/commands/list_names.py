"""``audioenh list``: every registered degradation, architecture and metric."""

from __future__ import annotations

import click

from ..plugins import KINDS, get_registry
from .options import echo_json, json_option


def describe(kind: str) -> list[dict[str, str]]:
    """Name, providing plugin, accepted parameters and one-line doc of every entry of ``kind``."""
    return [{"name": e.name, "plugin": e.plugin, "signature": e.signature, "doc": e.doc} for e in get_registry(kind)]


@click.command("list")
@click.argument("kind", required=False, type=click.Choice([*KINDS, "models"]))
@json_option(
    "Print JSON: {kind: [{name, plugin, signature, doc}, ...], models: [{name, default, summary, arch, ...}]}."
)
def list_names(kind, as_json):
    """List registered degradations, architectures and metrics, and the bundled models (or one KIND)."""
    kinds = [kind] if kind else [*KINDS, "models"]
    data = {k: describe(k) for k in kinds if k != "models"}
    if "models" in kinds:
        from ..pretrained import describe_bundled

        data["models"] = describe_bundled()
    sets = {name: list(members) for name, members in get_registry("degradations").sets().items()}
    if as_json:
        if "degradations" in kinds:
            data["degradation_sets"] = [
                {"name": n, "plugin": get_registry("degradations").set_plugin(n), "members": m} for n, m in sets.items()
            ]
        echo_json(data)
        return
    for k in kinds:
        click.secho(f"{k}:", bold=True)
        if k == "models":
            for m in data[k]:
                default = " (default)" if m["default"] else ""
                what = f"a bank of {', '.join(m['members'])}" if m.get("members") else m["arch"]
                click.echo(f"  {m['name']}{default}: {what}, {m['sample_rate']} Hz, {m['bytes'] / 1e6:.2f} MB")
                click.echo(f"      {m['summary']}  [audioenh model-info {m['name']}]")
            continue
        for item in data[k]:
            click.echo(f"  {item['name']}:{item['signature']}" if item["signature"] else f"  {item['name']}")
            click.echo(f"      {item['doc']}  [{item['plugin']}]")
        if k == "degradations" and sets:
            click.secho("degradation sets:", bold=True)
            for name, members in sets.items():
                click.echo(f"  {name} = {' | '.join(members)}")
