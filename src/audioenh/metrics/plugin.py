"""Built-in metrics, registered through the same hook as third-party plugins.

``vgg``, ``vgg16k`` and ``visqol`` need weights or an optional package; without them, creating
the metric raises :class:`audioenh.errors.MetricUnavailableError` (one line saying how to get
them). The optional ``visqol`` package and the weights are loaded only when the metric is created.
"""

from ..hookspecs import hookimpl


@hookimpl
def register_metrics(register):
    # here, not at the top: loading the plugin needs no torch
    from .lsd import LSD, HighBandLSD
    from .mrstft import MultiResolutionSTFT
    from .snr import SNR
    from .vggish import VGGDistance, VGGDistance16k
    from .visqol import ViSQOL

    register("snr", SNR)
    register("lsd", LSD)
    register("lsd-hf", HighBandLSD)
    register("mrstft", MultiResolutionSTFT)
    register("vgg", VGGDistance)
    register("vgg16k", VGGDistance16k)
    register("visqol", ViSQOL)
