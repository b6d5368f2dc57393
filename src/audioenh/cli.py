"""The ``audioenh`` command group.

Commands come from plugins through the ``register_commands`` hook (the built-in
ones too), loaded on first use. Errors that are the user's (bad specs, unknown
names, unreadable files) are printed as one line and exit with status 1.
"""

from __future__ import annotations

import click

from . import __version__
from .errors import AudioenhError
from .plugins import get_plugin_manager


class AudioenhGroup(click.Group):
    """A click group that pulls its commands from the plugin manager and reports user errors in one line."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._loaded_from = None

    def _load_plugin_commands(self) -> None:
        pm = get_plugin_manager()
        if self._loaded_from is not pm:
            self._loaded_from = pm
            pm.hook.register_commands(cli=self)

    def list_commands(self, ctx):
        self._load_plugin_commands()
        return super().list_commands(ctx)

    def get_command(self, ctx, cmd_name):
        self._load_plugin_commands()
        return super().get_command(ctx, cmd_name)

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
    """Console-script entry point."""
    cli(prog_name="audioenh")
