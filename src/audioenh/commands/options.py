"""What several commands share: their common options (one name and one help text each),
one-line errors, and JSON output.

Options taken by more than one command are defined here only, so that they cannot drift:
``--device``, ``-q/--quiet``, ``-o/--output``, ``--block``/``--context`` (inference blocks),
``--seed``, ``--data``, ``--json``, ``--precision``, ``-m/--metric``, ``--mode``. Renamed spellings keep
working, with a note on stderr (:func:`deprecated_alias`); docs/cli.md lists them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ..errors import AudioenhError
from ..evaluation.blocks import DEFAULT_CHUNK, DEFAULT_CONTEXT
from ..fileio import dumps_json
from ..precision import PRECISIONS


def echo_json(data: Any) -> None:
    """Print strict JSON (non-finite numbers, e.g. the SNR of identical signals, become null)."""
    click.echo(dumps_json(data))


def one_line_errors(command: Callable) -> Callable:
    """Turn :class:`~audioenh.errors.AudioenhError` into click's one-line ``Error: ...`` and exit status 1,
    also when the command runs outside the ``audioenh`` group (e.g. through CliRunner)."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except AudioenhError as exc:
            raise click.ClickException(str(exc)) from None

    return wrapper


def deprecated_alias(old: str, new: str, dest: str, **option_kwargs: Any) -> Callable:
    """A hidden option ``old`` that still fills ``dest`` (the option now spelt ``new``) and notes the
    new spelling on stderr. Giving both is refused."""
    alias_dest = f"{dest}_alias_{old.strip('-').replace('-', '_')}"

    def decorator(f: Callable) -> Callable:
        @functools.wraps(f)
        def wrapper(*args, **kwargs):
            value = kwargs.pop(alias_dest, None)
            if value is not None:
                ctx = click.get_current_context()
                source = ctx.get_parameter_source(dest)
                if source not in (None, click.core.ParameterSource.DEFAULT):
                    raise click.UsageError(f"{new} and {old} are the same option; give it once")
                click.echo(f"note: {old} is now {new}; the old spelling will go away", err=True)
                kwargs[dest] = value
            return f(*args, **kwargs)

        return click.option(old, alias_dest, hidden=True, **option_kwargs)(wrapper)

    return decorator


def device_option(f: Callable) -> Callable:
    return click.option(
        "--device",
        default="auto",
        show_default=True,
        metavar="DEVICE",
        help="Where the network runs: auto (a CUDA GPU when PyTorch sees one, else the CPU), cpu, cuda or cuda:N.",
    )(f)


def precision_option(f: Callable) -> Callable:
    """``--precision``: the network's arithmetic (:mod:`audioenh.precision`)."""
    return click.option(
        "--precision",
        type=click.Choice(list(PRECISIONS)),
        default="auto",
        show_default=True,
        help="Arithmetic of the network: fp32 (IEEE float32, also on GPUs), tf32 (float32 with TF32 tensor-core "
        "convolutions, CUDA only), bf16 or fp16 autocast. auto: bf16 where measured faster and as accurate (the "
        "U-Net on CPUs with AMX or AVX-512 BF16 and on CUDA GPUs with bfloat16), else fp32 (docs/performance.md).",
    )(f)


def quiet_option(f: Callable) -> Callable:
    return click.option(
        "-q", "--quiet", is_flag=True, help="No progress bars or notes on stderr (results and errors still print)."
    )(f)


def plot_option(help: str) -> Callable:
    """``--plot PATH``: also draw what the command measured (a .png, .svg or .pdf file, or a folder)."""
    return click.option("--plot", type=click.Path(path_type=Path), default=None, metavar="PATH", help=help)


def json_option(help: str) -> Callable:
    return click.option("--json", "as_json", is_flag=True, help=help)


def metric_option(default: tuple[str, ...], help: str) -> Callable:
    """``-m/--metric SPEC`` (repeatable): metric specs, into ``metric_specs``."""
    return click.option(
        "-m", "--metric", "metric_specs", multiple=True, default=default, show_default=True, metavar="SPEC", help=help
    )


def mode_option(default: str, help: str, *, both: bool = False, dest: str = "mode") -> Callable:
    """``--mode raw|safe`` (also ``both`` where both are scored): the paper's raw output or enhance's
    do-no-harm output (:mod:`audioenh.evaluation.crossover`)."""
    choices = ["raw", "safe", *(["both"] if both else [])]
    return click.option("--mode", dest, type=click.Choice(choices), default=default, show_default=True, help=help)


def seed_option(help: str = "Seed of every random choice (ranges, random degradations).") -> Callable:
    return click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help=help)


def range_group_option(f: Callable) -> Callable:
    """``--range-group N``: consecutive training examples sharing each range's draw."""
    from ..training.config import RANGE_GROUP

    return click.option(
        "--range-group",
        type=click.IntRange(min=1),
        default=RANGE_GROUP,
        show_default=True,
        metavar="N",
        help="Consecutive training examples that share each range's draw (e.g. cutoff=9000..13000), so its "
        "filter is designed once; 1 draws per example.",
    )(f)


def data_option(default_help: str) -> Callable:
    return click.option(
        "--data",
        "data",
        multiple=True,
        metavar="CORPUS",
        help="Corpus: builtin, a folder with train/ val/ test/, dsd100:PATH or medleydb:PATH; repeat to combine.  "
        f"[default: {default_help}]",
    )


def degrade_option(help: str, *, required: bool = True) -> Callable:
    """``-d/--degrade SPEC`` (repeatable): degradation specs, resolved by
    :func:`~audioenh.degradations.chain.resolve_degradations`."""
    return click.option("-d", "--degrade", "specs", required=required, multiple=True, metavar="SPEC", help=help)


def output_option(help: str, *, required: bool = True, file_okay: bool = True, dir_okay: bool = True) -> Callable:
    """``-o/--output PATH`` (``--out`` still accepted, with a note)."""
    path_type = click.Path(file_okay=file_okay, dir_okay=dir_okay, path_type=Path)

    def decorator(f: Callable) -> Callable:
        @functools.wraps(f)
        def wrapper(*args, **kwargs):
            if required and kwargs.get("output") is None:
                raise click.UsageError("Missing option '-o' / '--output'.")
            return f(*args, **kwargs)

        wrapped = deprecated_alias("--out", "--output", "output", type=path_type)(wrapper)
        return click.option("-o", "--output", "output", type=path_type, default=None, help=help)(wrapped)

    return decorator


def batch_size_option(f: Callable) -> Callable:
    """``--batch-size``: training examples per step."""
    return click.option(
        "--batch-size", type=click.IntRange(min=1), default=8, show_default=True, help="Training examples per step."
    )(f)


def chunk_option(f: Callable) -> Callable:
    """``--chunk``: samples per training example."""
    return click.option(
        "--chunk", type=click.IntRange(min=1), default=8192, show_default=True, help="Samples per training example."
    )(f)


def block_option(*, legacy_chunk: bool = True) -> Callable:
    """``--block``: samples kept per inference block (``--chunk`` in test and enhance before 0.2)."""

    def decorator(f: Callable) -> Callable:
        if legacy_chunk:
            f = deprecated_alias("--chunk", "--block", "block", type=click.IntRange(min=1))(f)
        return click.option(
            "--block",
            type=click.IntRange(min=1),
            default=DEFAULT_CHUNK,
            show_default=True,
            help="Samples kept from each block the network sees (inference runs block by block).",
        )(f)

    return decorator


def context_option(f: Callable) -> Callable:
    """``--context``: samples of real signal on each side of an inference block (default: the network's
    receptive field)."""
    return click.option(
        "--context",
        type=click.IntRange(min=0),
        default=DEFAULT_CONTEXT,
        help="Samples of real signal on each side of a block; blocks join seamlessly when it covers the "
        "network's receptive field.  [default: the network's receptive field, e.g. 93 for resnet, 744 for unet]",
    )(f)
