"""audioenh: musical audio bandwidth extension with deep neural networks."""

__version__ = "0.1.0"
