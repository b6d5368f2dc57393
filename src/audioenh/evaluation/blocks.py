"""Defaults of block-wise inference (:mod:`audioenh.evaluation.inference`), in a module of their own
so that the command line's options can show them without importing PyTorch."""

DEFAULT_CHUNK = 32768  # samples kept per block
DEFAULT_CONTEXT: int | None = None  # samples of context on each side; None: the network's receptive field
DEFAULT_BATCH = 4  # blocks per forward pass on a CPU (enhance --batch-size)
#: blocks per forward pass on a CUDA GPU: fewer, larger passes leave the GPU less time waiting for the
#: CPU to queue the next (H200, tools/enhance_batch_speed.py, docs/performance.md: the paper U-Net in
#: bf16 0.0026 s per s of audio at 4, 0.0016 at 16; the bundled resnet-11k-cheby1 0.0019 -> 0.0024)
CUDA_BATCH = 16


def default_enhance_batch(device) -> int:
    """Blocks per forward pass ``enhance`` runs by default on ``device`` (a ``torch.device`` or name)."""
    return CUDA_BATCH if str(device).startswith("cuda") else DEFAULT_BATCH
