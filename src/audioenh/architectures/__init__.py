"""Network architectures for bandwidth extension on raw (batch, channels, samples) audio."""

__all__ = ["count_macs", "count_parameters"]


def __getattr__(name: str):
    # imported on first use, so that loading the built-in plugins (every command's --help) needs no torch
    if name in __all__:
        from . import complexity

        return getattr(complexity, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
