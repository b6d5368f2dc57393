"""Defaults of block-wise inference (:mod:`audioenh.evaluation.inference`), in a module of their own
so that the command line's options can show them without importing PyTorch."""

DEFAULT_CHUNK = 32768  # samples kept per block
DEFAULT_CONTEXT: int | None = None  # samples of context on each side; None: the network's receptive field
