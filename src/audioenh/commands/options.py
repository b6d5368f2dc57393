"""Helpers shared by commands: JSON output and turning library errors into one-line errors."""

from __future__ import annotations

import json
import math
from typing import Any

import click


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def echo_json(data: Any) -> None:
    """Print strict JSON (non-finite numbers, e.g. the SNR of identical signals, become null)."""
    click.echo(json.dumps(_finite(data), indent=2))
