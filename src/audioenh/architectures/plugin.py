"""Built-in architectures, registered through the same hook as third-party plugins."""

from ..hookspecs import hookimpl


@hookimpl
def register_architectures(register):
    from .resnet import resnet  # here, not at the top: loading the plugin needs no torch
    from .unet import unet

    register("unet", unet)
    register("resnet", resnet)
