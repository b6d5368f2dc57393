"""Network architectures for bandwidth extension on raw (batch, channels, samples) audio."""

from .complexity import count_macs, count_parameters

__all__ = ["count_macs", "count_parameters"]
