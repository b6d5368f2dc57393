"""Hook specifications: the whole plugin interface of audioenh.

A plugin is a module or object with functions decorated by ``audioenh.hookimpl``
and named like the hooks below. Built-in degradations, architectures, metrics
and commands are registered through these same hooks.
"""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("audioenh")
hookimpl = pluggy.HookimplMarker("audioenh")


@hookspec
def register_degradations(register):
    """Register degradations: ``register(name, factory)`` and ``register.set(name, [specs])``.

    ``factory(**params)`` returns a :class:`audioenh.degradations.Degradation`, an object
    called as ``degradation(audio, sample_rate)`` on float arrays shaped (channels, samples).
    """


@hookspec
def register_architectures(register):
    """Register architectures: ``register(name, factory)``.

    ``factory(preset="paper", **options)`` returns a ``torch.nn.Module`` mapping
    (batch, channels, samples) to the same shape; it must accept ``preset="tiny"``.
    """


@hookspec
def register_metrics(register):
    """Register metrics: ``register(name, factory)``.

    ``factory(**params)`` returns a :class:`audioenh.metrics.Metric`, called as
    ``metric(reference, estimate, sample_rate) -> float``.
    """


@hookspec
def register_commands(cli):
    """Add click commands to the ``audioenh`` group: ``cli.add_command(command)``."""
