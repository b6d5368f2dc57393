"""The template audioenh plugin's hooks: what it registers, and under which names.

audioenh imports this module through the entry point in pyproject.toml every time it loads its
plugins, ``audioenh --help`` included, so it imports nothing heavy itself: each hook imports its
pieces from components.py (and with them PyTorch and SciPy) when audioenh fills that registry.
"""

from __future__ import annotations

from audioenh import hookimpl
from audioenh.hookspecs import Register

# -- Registration -----------------------------------------------------------------------------
# One function per hook, named exactly after it: a misspelt name is never called, and audioenh
# warns about it. `register(name, factory)` adds a name; a name that is already taken (by
# audioenh or another plugin) is refused with a warning naming this plugin, so prefix yours.
# A hook that raises costs only this plugin's entries of that kind.


@hookimpl
def register_degradations(register: Register) -> None:
    from .components import Tilt

    register("example-tilt", Tilt)


@hookimpl
def register_architectures(register: Register) -> None:
    from .components import example_conv

    register("example-conv", example_conv)


@hookimpl
def register_metrics(register: Register) -> None:
    from .components import PeakError

    register("example-peak-error", PeakError)
