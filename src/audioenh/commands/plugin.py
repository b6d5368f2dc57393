"""Built-in commands, added through the same hook as third-party plugin commands."""

from ..hookspecs import hookimpl


@hookimpl
def register_commands(cli):
    from .degrade import degrade
    from .list_names import list_names
    from .metric import metric
    from .model_info import model_info

    for command in (list_names, degrade, metric, model_info):
        cli.add_command(command)
