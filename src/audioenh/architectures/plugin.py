"""Built-in architectures, registered through the same hook as third-party plugins."""

from ..hookspecs import hookimpl
from .resnet import resnet
from .unet import unet


@hookimpl
def register_architectures(register):
    register("unet", unet)
    register("resnet", resnet)
