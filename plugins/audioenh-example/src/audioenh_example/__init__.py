"""audioenh-example: the template audioenh plugin (see plugin.py)."""

__version__ = "0.1.0"
