"""audioenh: musical audio bandwidth extension with deep neural networks."""

from .hookspecs import hookimpl

__version__ = "0.1.0"

__all__ = ["__version__", "hookimpl"]
