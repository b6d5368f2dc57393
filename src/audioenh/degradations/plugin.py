"""Built-in degradations, registered through the same hook as third-party plugins."""

from ..hookspecs import hookimpl


@hookimpl
def register_degradations(register):
    # imported when the registry is filled, not when the plugin is loaded: the command line's help
    # loads every plugin and must not wait for scipy.signal
    from . import dynamics, filters, fir, modulation, noise, resample, sets

    register("butter", filters.Butterworth)
    register("cheby1", filters.Chebyshev1)
    register("cheby2", filters.Chebyshev2)
    register("bessel", filters.Bessel)
    register("ellip", filters.Elliptic)
    register.set("paper-multi", filters.PAPER_MULTI)
    register("fir", fir.FIRLowPass)
    register("brickwall", fir.BrickWall)
    register("resample", resample.Resample)
    register("clip", dynamics.Clip)
    register("gain", dynamics.Gain)
    register("quantize", dynamics.Quantize)
    register("noise", noise.Noise)
    register("wow-flutter", modulation.WowFlutter)
    register.set("matrix", sets.MATRIX)
    register.set("matrix-quick", sets.MATRIX_QUICK)
    for name, members in sets.RECIPES.items():
        register.set(name, members)
