"""The ``audioenh`` command group.

Commands come from plugins through the ``register_commands`` hook (the built-in
ones too), loaded on first use. A plugin may add a command lazily
(:meth:`AudioenhGroup.add_lazy_command`): its module is imported only when that command
runs or shows its help, so ``audioenh --help`` and light commands start without
importing PyTorch. Errors that are the user's (bad specs, unknown names, unreadable
files) are printed as one line and exit with status 1.
"""

from __future__ import annotations

import importlib

import click

from . import __version__
from .errors import AudioenhError
from .plugins import get_plugin_manager


class AudioenhGroup(click.Group):
    """A click group that pulls its commands from the plugin manager and reports user errors in one line."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._loaded_from = None
        self._lazy: dict[str, tuple[str, str]] = {}  # command name -> ("module:attribute", its help's first line)

    def add_lazy_command(self, name: str, target: str, help_line: str) -> None:
        """Add the command ``name`` defined at ``target`` (``"package.module:attribute"``), imported on first
        use; ``help_line`` is the first line of its help, shown in ``audioenh --help`` meanwhile."""
        self._lazy[name] = (target, help_line)

    def _load_plugin_commands(self) -> None:
        pm = get_plugin_manager()
        if self._loaded_from is not pm:
            self._loaded_from = pm
            pm.hook.register_commands(cli=self)

    def list_commands(self, ctx):
        self._load_plugin_commands()
        return sorted({*super().list_commands(ctx), *self._lazy})

    def get_command(self, ctx, cmd_name):
        self._load_plugin_commands()
        if cmd_name not in self.commands and cmd_name in self._lazy:
            module, _, attribute = self._lazy[cmd_name][0].partition(":")
            self.add_command(getattr(importlib.import_module(module), attribute), cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx, formatter):
        """The command list of ``--help``: lazy commands by their help line, without importing them."""
        limit = formatter.width - 6 - max((len(name) for name in self.list_commands(ctx)), default=0)
        rows = []
        for name in self.list_commands(ctx):
            if name in self._lazy and name not in self.commands:
                rows.append((name, click.Command(name, help=self._lazy[name][1]).get_short_help_str(limit)))
                continue
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except AudioenhError as exc:
            raise click.ClickException(str(exc)) from None


@click.group(cls=AudioenhGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="audioenh")
def cli():
    """Musical audio bandwidth extension with deep neural networks.

    Degradations, architectures and metrics are named by spec strings such as
    'cheby1:6', 'butter:order=6,cutoff=11025' or 'resnet:preset=tiny'; see
    'audioenh list' for every name and its parameters.
    """


def main() -> None:
    """Console-script entry point (also ``python -m audioenh``): keeps freed memory in the process
    (:mod:`audioenh.allocator`), then runs the command."""
    from .allocator import keep_freed_memory

    keep_freed_memory()
    cli(prog_name="audioenh")
