"""Hook specifications: the whole plugin interface of audioenh.

A plugin is a module or object with functions decorated by ``audioenh.hookimpl``
and named like the hooks below. Built-in degradations, architectures, metrics
and commands are registered through these same hooks.

A hook implementation may take fewer parameters than its spec (pluggy passes only
the ones it names), but not others: a misspelt parameter fails the plugin's
registration, and a misspelt hook name is reported with a ``PluginWarning``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import pluggy

if TYPE_CHECKING:
    import click

hookspec = pluggy.HookspecMarker("audioenh")
hookimpl = pluggy.HookimplMarker("audioenh")


@runtime_checkable
class Register(Protocol):
    """The ``register`` callback handed to the ``register_*`` hooks (:class:`audioenh.plugins.Registrar`).

    ``register(name, factory)`` adds one named factory; ``register.set(name, specs)`` adds a
    named set of specs (used for degradations, e.g. ``paper-multi``); ``register.extend(name,
    specs)`` adds members to a set registered before (built-in sets are registered first: the
    codecs plugin adds its cells to ``matrix`` and ``matrix-quick``). A name already taken, or an
    unknown set to extend, is refused with a ``PluginWarning`` naming the plugin; the first
    registration is kept.
    """

    def __call__(self, name: str, factory: Callable[..., Any]) -> None:
        """Add ``name`` (letters, digits, ``-``, ``_``, ``.``; case-insensitive), built by ``factory(**params)``."""

    def set(self, name: str, specs: Iterable[str]) -> None:
        """Add ``name`` standing for the specs ``specs`` (each checked to parse)."""

    def extend(self, name: str, specs: Iterable[str]) -> None:
        """Add the specs ``specs`` to the existing set ``name`` (members already in it are skipped)."""


@hookspec
def register_degradations(register: Register) -> None:
    """Register degradations.

    :param register: call ``register(name, factory)`` for each degradation and
        ``register.set(name, specs)`` for a named set of degradation specs (a list of strings
        such as ``["cheby1:6", "butter:8"]``), ``register.extend(name, specs)`` to add members to
        a set another plugin registered (e.g. cells of the generalization matrix). ``factory(**params)`` returns a
        :class:`audioenh.degradations.Degradation`, an object called as
        ``degradation(audio, sample_rate)`` on float arrays shaped (channels, samples), with
        ``sample_rate`` in Hz, returning an array of the same shape. The factory's parameters
        are the spec's arguments.
    """


@hookspec
def register_architectures(register: Register) -> None:
    """Register architectures.

    :param register: call ``register(name, factory)`` for each architecture.
        ``factory(preset="paper", **options)`` returns a ``torch.nn.Module`` mapping tensors
        shaped (batch, channels, samples) to the same shape, for any number of samples; it must
        accept ``preset="tiny"`` (well under 200,000 parameters) and ``audio_channels``
        (default 2).
    """


@hookspec
def register_metrics(register: Register) -> None:
    """Register metrics.

    :param register: call ``register(name, factory)`` for each metric. ``factory(**params)``
        returns a :class:`audioenh.metrics.Metric`, called as
        ``metric(reference, estimate, sample_rate) -> float`` on arrays shaped
        (channels, samples), with ``sample_rate`` in Hz; it states ``higher_is_better`` and its
        ``unit`` (e.g. ``"dB"``).
    """


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add commands to the ``audioenh`` command group.

    :param cli: the ``audioenh`` ``click.Group``; call ``cli.add_command(command)`` with a
        ``click.Command`` or ``click.Group``, or ``cli.add_lazy_command(name, "module:attribute",
        help_line)`` to import the command's module only when it is used. Raise
        :class:`audioenh.errors.AudioenhError` for the user's mistakes: the group prints it as one
        line and exits with status 1.
    """
