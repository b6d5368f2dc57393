"""Built-in commands, added through the same hook as third-party plugin commands."""

from ..hookspecs import hookimpl


@hookimpl
def register_commands(cli):
    from .bandwidth import bandwidth
    from .benchmark import benchmark
    from .cache import cache
    from .data import data
    from .degrade import degrade
    from .enhance import enhance
    from .list_names import list_names
    from .matrix import matrix
    from .metric import metric
    from .model_info import model_info
    from .report import generalization_report
    from .testing import test
    from .train import train
    from .weights import weights

    for command in (
        list_names,
        degrade,
        metric,
        model_info,
        data,
        train,
        test,
        enhance,
        generalization_report,
        weights,
        benchmark,
        bandwidth,
        matrix,
        cache,
    ):
        cli.add_command(command)
