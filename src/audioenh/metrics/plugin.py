"""Built-in metrics, registered through the same hook as third-party plugins."""

from ..hookspecs import hookimpl
from .lsd import LSD, HighBandLSD
from .snr import SNR


@hookimpl
def register_metrics(register):
    register("snr", SNR)
    register("lsd", LSD)
    register("lsd-hf", HighBandLSD)
