"""VGGish in PyTorch and the paper's VGG distance (Sulun & Davies, equation 2).

VGGish (Hershey et al., ICASSP 2017) maps a 0.96-s log-mel patch (96 frames x 64 mel bands) to
a 128-d embedding; the AudioSet release post-processes it by PCA, clipping to [-2, 2] and 8-bit
quantisation to 0..255. The VGG distance is the mean absolute difference of these post-processed
embeddings of reference and estimate, computed on the mono downmix.

Weights are not shipped. The metric loads a PyTorch state dict in the layout of the widely used
torchvggish port (harritaylor/torchvggish, release v0.1), whose keys and shapes are
:data:`VGGISH_KEYS`::

    features.0.weight    (64, 1, 3, 3)      features.0.bias    (64,)      conv1    1 -> 64
    features.3.weight    (128, 64, 3, 3)    features.3.bias    (128,)     conv2   64 -> 128
    features.6.weight    (256, 128, 3, 3)   features.6.bias    (256,)     conv3_1 128 -> 256
    features.8.weight    (256, 256, 3, 3)   features.8.bias    (256,)     conv3_2 256 -> 256
    features.11.weight   (512, 256, 3, 3)   features.11.bias   (512,)     conv4_1 256 -> 512
    features.13.weight   (512, 512, 3, 3)   features.13.bias   (512,)     conv4_2 512 -> 512
    embeddings.0.weight  (4096, 12288)      embeddings.0.bias  (4096,)    fc1_1
    embeddings.2.weight  (4096, 4096)       embeddings.2.bias  (4096,)    fc1_2
    embeddings.4.weight  (128, 4096)        embeddings.4.bias  (128,)     fc2
    pproc.pca_eigen_vectors  (128, 128)     PCA matrix, rows are the eigenvectors
    pproc.pca_means          (128, 1)       PCA means ((128,) is accepted too)

The ``features.N`` indices are positions in ``nn.Sequential`` (ReLU and max-pool layers take the
other indices), every conv is 3x3 with padding 1 and every pool 2x2 with stride 2; the 12288
inputs of ``embeddings.0`` are the conv output (512 channels x 6 time x 4 mel) flattened in
(time, mel, channel) order, as the TensorFlow original; a ReLU follows every linear layer,
including the last (as in the released model the port was converted from).

The published port is two files: ``vggish-10086976.pth`` (the network keys above) and
``vggish_pca_params-970ea276.pth`` (keys ``pca_eigen_vectors`` (128, 128) and ``pca_means``
(128,), stored as numpy arrays). ``audioenh weights fetch vggish`` downloads both, checks their
SHA-256 prefixes and writes them merged (all tensors, PCA under ``pproc.``) to one file. The
loader also accepts the PCA under the bare names, or the two published files side by side
(pointing at the network file finds ``vggish_pca_params*.pth`` in the same folder).
Files are read with ``torch.load(weights_only=True)`` (plain numpy arrays allowed).

Where the weights are looked for, first match wins: the metric's ``weights=PATH`` spec
parameter; the environment variable ``AUDIOENH_VGGISH_WEIGHTS``; ``default_cache_dir()/vggish.pth``
(``$AUDIOENH_CACHE`` or ``~/.cache/audioenh``). Missing weights raise
:class:`~audioenh.errors.MetricUnavailableError`; there is no fallback.
"""

from __future__ import annotations

import contextlib
import glob
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..errors import CheckpointError, MetricUnavailableError
from .base import Metric

#: Environment variable naming a VGGish weights file.
WEIGHTS_ENV = "AUDIOENH_VGGISH_WEIGHTS"
#: File name of the merged weights in the user cache.
CACHE_NAME = "vggish.pth"

#: Published torchvggish v0.1 release files: role -> (url, SHA-256 prefix in the file name).
PUBLISHED_FILES = {
    "model": (
        "https://github.com/harritaylor/torchvggish/releases/download/v0.1/vggish-10086976.pth",
        "10086976",
    ),
    "pca": (
        "https://github.com/harritaylor/torchvggish/releases/download/v0.1/vggish_pca_params-970ea276.pth",
        "970ea276",
    ),
}

EMBEDDING_SIZE = 128
#: Post-processing constants of the AudioSet release.
QUANTIZE_MIN, QUANTIZE_MAX = -2.0, 2.0
PCA_VECTORS_KEY = "pproc.pca_eigen_vectors"
PCA_MEANS_KEY = "pproc.pca_means"

_CONV_CHANNELS = (64, "M", 128, "M", 256, 256, "M", 512, 512, "M")


def _network_keys() -> dict[str, tuple[int, ...]]:
    keys: dict[str, tuple[int, ...]] = {}
    index, in_ch = 0, 1
    for v in _CONV_CHANNELS:
        if v == "M":
            index += 1
            continue
        keys[f"features.{index}.weight"] = (v, in_ch, 3, 3)
        keys[f"features.{index}.bias"] = (v,)
        index, in_ch = index + 2, v
    for i, (n_out, n_in) in zip((0, 2, 4), ((4096, 512 * 4 * 6), (4096, 4096), (EMBEDDING_SIZE, 4096))):
        keys[f"embeddings.{i}.weight"] = (n_out, n_in)
        keys[f"embeddings.{i}.bias"] = (n_out,)
    return keys


#: Network keys of the torchvggish state dict and their shapes.
NETWORK_KEYS: dict[str, tuple[int, ...]] = _network_keys()
#: Every key of a complete VGGish weights file (network + PCA) and its shape.
VGGISH_KEYS: dict[str, tuple[int, ...]] = {
    **NETWORK_KEYS,
    PCA_VECTORS_KEY: (EMBEDDING_SIZE, EMBEDDING_SIZE),
    PCA_MEANS_KEY: (EMBEDDING_SIZE, 1),
}


# -- the log-mel front end ---------------------------------------------------------------------


def hertz_to_mel(hertz):
    """HTK mel scale: 1127 ln(1 + f / 700)."""
    return 1127.0 * np.log1p(np.asarray(hertz, dtype=np.float64) / 700.0)


@dataclass(frozen=True)
class FrontEnd:
    """VGGish's log-mel front end at one sample rate.

    Frames of ``round(sample_rate * 0.025)`` samples every ``round(sample_rate * 0.010)``, no
    padding (a last partial frame is dropped); periodic Hann window; magnitude of an FFT of the
    next power of two; ``mel_bins`` triangular HTK-mel filters between ``fmin`` and ``fmax`` over
    the FFT bins (DC bin weight 0); ``log(mel + 0.01)`` (natural log); examples of 96 frames
    (0.96 s) without overlap, a last partial example dropped.
    """

    sample_rate: int
    fmax: float
    fmin: float = 125.0
    mel_bins: int = 64
    window_seconds: float = 0.025
    hop_seconds: float = 0.010
    example_seconds: float = 0.96
    log_offset: float = 0.01

    @property
    def window_length(self) -> int:
        return int(round(self.sample_rate * self.window_seconds))

    @property
    def hop_length(self) -> int:
        return int(round(self.sample_rate * self.hop_seconds))

    @property
    def fft_length(self) -> int:
        return 2 ** int(math.ceil(math.log2(self.window_length)))

    @property
    def example_frames(self) -> int:
        return int(round(self.example_seconds / self.hop_seconds))

    @property
    def example_samples(self) -> int:
        """Samples needed for one example."""
        return (self.example_frames - 1) * self.hop_length + self.window_length

    def mel_matrix(self) -> np.ndarray:
        """(fft_length // 2 + 1, mel_bins) weights from magnitude-spectrum bins to mel bands."""
        nyquist = self.sample_rate / 2.0
        if not 0.0 <= self.fmin < self.fmax <= nyquist:
            raise ValueError(f"need 0 <= fmin < fmax <= {nyquist:g} Hz, got fmin={self.fmin:g}, fmax={self.fmax:g}")
        bins_mel = hertz_to_mel(np.linspace(0.0, nyquist, self.fft_length // 2 + 1))
        edges = np.linspace(hertz_to_mel(self.fmin), hertz_to_mel(self.fmax), self.mel_bins + 2)
        lower, center, upper = edges[:-2], edges[1:-1], edges[2:]
        rising = (bins_mel[:, None] - lower) / (center - lower)
        falling = (upper - bins_mel[:, None]) / (upper - center)
        weights = np.maximum(0.0, np.minimum(rising, falling))
        weights[0, :] = 0.0
        return weights

    def log_mel(self, mono: np.ndarray) -> np.ndarray:
        """(frames, mel_bins) log-mel spectrogram of 1-D audio at ``sample_rate``."""
        mono = np.asarray(mono, dtype=np.float64)
        win, hop = self.window_length, self.hop_length
        if mono.shape[-1] < win:
            return np.zeros((0, self.mel_bins))
        frames = np.lib.stride_tricks.sliding_window_view(mono, win)[::hop]
        window = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(win) / win)  # periodic Hann
        mel = self.mel_matrix()
        out = np.empty((frames.shape[0], self.mel_bins))
        block = 2048  # frames per FFT block, to bound memory on long songs
        for start in range(0, frames.shape[0], block):
            magnitude = np.abs(np.fft.rfft(frames[start : start + block] * window, n=self.fft_length, axis=-1))
            out[start : start + block] = magnitude @ mel
        return np.log(out + self.log_offset)

    def examples(self, mono: np.ndarray) -> np.ndarray:
        """(examples, 96, mel_bins) log-mel patches; audio shorter than one example is zero-padded to one."""
        mono = np.asarray(mono, dtype=np.float64)
        if mono.shape[-1] < self.example_samples:
            mono = np.pad(mono, (0, self.example_samples - mono.shape[-1]))
        spec = self.log_mel(mono)
        n = self.example_frames
        count = spec.shape[0] // n
        return spec[: count * n].reshape(count, n, self.mel_bins)


#: The original VGGish front end: 16 kHz, 400-sample window, 160 hop, FFT 512, mel 125-7500 Hz.
ORIGINAL_FRONT_END = FrontEnd(sample_rate=16000, fmax=7500.0)
#: The paper's: 44.1 kHz kept, 1102-sample window, 441 hop, FFT 2048, mel 125-22050 Hz.
PAPER_FRONT_END = FrontEnd(sample_rate=44100, fmax=22050.0)


# -- the network and its post-processing ---------------------------------------------------------


class VGGish(nn.Module):
    """The VGGish network: (batch, 1, 96, 64) log-mel patches -> (batch, 128) raw embeddings.

    ``features``: conv64-pool-conv128-pool-conv256-conv256-pool-conv512-conv512-pool (3x3 convs,
    padding 1, each followed by ReLU; 2x2 max-pools); ``embeddings``: 12288-4096-4096-128 with a
    ReLU after each layer. Its ``state_dict`` keys are :data:`NETWORK_KEYS`.
    """

    def __init__(self):
        super().__init__()
        layers: list[nn.Module] = []
        in_ch = 1
        for v in _CONV_CHANNELS:
            if v == "M":
                layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            else:
                layers += [nn.Conv2d(in_ch, int(v), kernel_size=3, padding=1), nn.ReLU(inplace=True)]
                in_ch = int(v)
        self.features = nn.Sequential(*layers)
        self.embeddings = nn.Sequential(
            nn.Linear(512 * 6 * 4, 4096),
            nn.ReLU(inplace=True),
            nn.Linear(4096, 4096),
            nn.ReLU(inplace=True),
            nn.Linear(4096, EMBEDDING_SIZE),
            nn.ReLU(inplace=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)  # (batch, 512, 6 time, 4 mel)
        x = x.permute(0, 2, 3, 1).reshape(x.shape[0], -1)  # TensorFlow's NHWC flattening order
        return self.embeddings(x)


def postprocess(embeddings: np.ndarray, pca_vectors: np.ndarray, pca_means: np.ndarray) -> np.ndarray:
    """AudioSet post-processing: PCA (subtract means, project), clip to [-2, 2], quantise to 0..255.

    ``embeddings`` is (n, 128); returns float64 values that are integers 0..255.
    """
    projected = (np.asarray(embeddings, dtype=np.float64) - pca_means.reshape(1, -1)) @ pca_vectors.T
    clipped = np.clip(projected, QUANTIZE_MIN, QUANTIZE_MAX)
    return np.round((clipped - QUANTIZE_MIN) * (255.0 / (QUANTIZE_MAX - QUANTIZE_MIN)))


# -- weights ------------------------------------------------------------------------------------


def cache_path() -> Path:
    """``default_cache_dir()/vggish.pth``: where ``audioenh weights fetch vggish`` writes by default."""
    from ..cache import default_cache_dir

    return default_cache_dir() / CACHE_NAME


def weights_location(weights: str | os.PathLike | None = None) -> tuple[Path, str]:
    """The weights file to use and where its name came from (spec parameter, environment, cache).

    ``weights`` None, empty or ``"auto"`` means: not given.
    """
    if weights is not None and str(weights).strip() and str(weights).strip().lower() != "auto":
        return Path(str(weights)).expanduser(), "the spec parameter weights="
    env = os.environ.get(WEIGHTS_ENV, "").strip()
    if env:
        return Path(env).expanduser(), f"${WEIGHTS_ENV}"
    return cache_path(), "the user cache"


def _numpy_safe_globals() -> list:
    """Globals that rebuild plain numpy arrays (the published PCA file stores numpy arrays)."""
    core = getattr(np, "_core", None) or np.core
    reconstruct = core.multiarray._reconstruct
    allowed: list = [reconstruct, np.ndarray, np.dtype]
    for legacy in ("numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct"):
        allowed.append((reconstruct, legacy))
    for kind in (np.float16, np.float32, np.float64, np.int32, np.int64, np.uint8):
        allowed.append(type(np.dtype(kind)))
    return allowed


def load_weights_file(path: str | os.PathLike) -> dict:
    """``torch.load(path, weights_only=True)`` (numpy arrays allowed); any failure is one line."""
    path = Path(path)
    safe_globals = getattr(torch.serialization, "safe_globals", None)  # torch >= 2.5
    context = safe_globals(_numpy_safe_globals()) if safe_globals else contextlib.nullcontext()
    try:
        with context:
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # corrupt, truncated, not a torch file, unsafe pickle ...
        first = (str(exc).strip().splitlines() or [""])[0][:160]
        raise CheckpointError(
            f"cannot read VGGish weights {str(path)!r}: {type(exc).__name__}: {first}".rstrip(": ")
        ) from None
    if not isinstance(state, dict):
        raise CheckpointError(f"VGGish weights {str(path)!r} hold a {type(state).__name__}, not a state dict")
    return state


def _as_tensor(value, key: str, path: Path) -> torch.Tensor:
    try:
        return torch.as_tensor(np.asarray(value) if not isinstance(value, torch.Tensor) else value).float()
    except Exception:
        raise CheckpointError(f"VGGish weights {str(path)!r}: {key} is not an array") from None


def _pca_from(state: dict) -> tuple | None:
    for vectors_key, means_key in ((PCA_VECTORS_KEY, PCA_MEANS_KEY), ("pca_eigen_vectors", "pca_means")):
        if vectors_key in state and means_key in state:
            return vectors_key, means_key
    return None


def check_state(state: dict, path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Validate a (merged or network-only) state dict; return float tensors under :data:`VGGISH_KEYS`.

    Missing or unexpected keys and wrong shapes raise :class:`CheckpointError` in one line. When
    the PCA is absent, a published ``vggish_pca_params*.pth`` in the same folder is used.
    """
    path = Path(path)
    pca_keys = _pca_from(state)
    known = set(NETWORK_KEYS) | set(pca_keys or ())
    missing = [k for k in NETWORK_KEYS if k not in state]
    unexpected = sorted(str(k) for k in state if k not in known)
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing {len(missing)} key(s) e.g. {', '.join(missing[:3])}")
        if unexpected:
            parts.append(f"unexpected key(s) {', '.join(unexpected[:3])}{' ...' if len(unexpected) > 3 else ''}")
        raise CheckpointError(
            f"{str(path)!r} is not VGGish weights in the torchvggish layout: {'; '.join(parts)} "
            "(see audioenh.metrics.vggish.VGGISH_KEYS)"
        )
    out = {k: _as_tensor(state[k], k, path) for k in NETWORK_KEYS}
    if pca_keys is None:
        siblings = sorted(glob.glob(str(path.parent / "vggish_pca_params*.pth")))
        if not siblings:
            raise CheckpointError(
                f"VGGish weights {str(path)!r} have no PCA parameters ({PCA_VECTORS_KEY}, {PCA_MEANS_KEY}) and no "
                "vggish_pca_params*.pth lies beside them; run `audioenh weights fetch vggish`"
            )
        pca_state = load_weights_file(siblings[0])
        pca_keys = _pca_from(pca_state)
        if pca_keys is None:
            raise CheckpointError(f"{siblings[0]!r} holds no pca_eigen_vectors / pca_means")
        path, state = Path(siblings[0]), pca_state
    out[PCA_VECTORS_KEY] = _as_tensor(state[pca_keys[0]], pca_keys[0], path)
    means = _as_tensor(state[pca_keys[1]], pca_keys[1], path)
    out[PCA_MEANS_KEY] = means.reshape(-1, 1) if means.ndim == 1 else means
    for key, shape in VGGISH_KEYS.items():
        if tuple(out[key].shape) != shape:
            raise CheckpointError(
                f"VGGish weights {str(path)!r}: {key} has shape {tuple(out[key].shape)}, expected {shape}"
            )
    return out


@dataclass
class LoadedVGGish:
    """A VGGish network in eval mode with its PCA parameters (float64 numpy)."""

    model: VGGish
    pca_vectors: np.ndarray
    pca_means: np.ndarray
    path: Path

    def embed(self, examples: np.ndarray, batch: int = 16) -> np.ndarray:
        """Post-processed (n, 128) embeddings (integers 0..255 as float64) of (n, 96, 64) log-mel patches."""
        raw = []
        with torch.inference_mode():
            for start in range(0, examples.shape[0], batch):
                x = torch.from_numpy(np.ascontiguousarray(examples[start : start + batch], dtype=np.float32))
                raw.append(self.model(x[:, None]).double().numpy())
        raw_all = np.concatenate(raw) if raw else np.zeros((0, EMBEDDING_SIZE))
        return postprocess(raw_all, self.pca_vectors, self.pca_means)


_LOADED: dict[tuple, LoadedVGGish] = {}


def load_vggish(weights: str | os.PathLike | None = None) -> LoadedVGGish:
    """Find, check and load the VGGish weights (cached per file while it is unchanged).

    Raises :class:`MetricUnavailableError` when no weights file exists where it is looked for,
    :class:`CheckpointError` when the file is unreadable or not in the torchvggish layout.
    """
    path, source = weights_location(weights)
    if not path.is_file():
        raise MetricUnavailableError(
            f"VGGish weights not found at {str(path)!r} (from {source}); get them with "
            f"`audioenh weights fetch vggish`, or set {WEIGHTS_ENV}=PATH to a torchvggish .pth file"
        )
    stat = path.stat()
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    if key in _LOADED:
        return _LOADED[key]
    state = check_state(load_weights_file(path), path)
    model = VGGish()
    model.load_state_dict({k: state[k] for k in NETWORK_KEYS})
    model.eval()
    loaded = LoadedVGGish(
        model,
        state[PCA_VECTORS_KEY].double().numpy(),
        state[PCA_MEANS_KEY].double().numpy().reshape(-1),
        path,
    )
    _LOADED.clear()  # keep one network (about 290 MB) in memory
    _LOADED[key] = loaded
    return loaded


# -- the metrics --------------------------------------------------------------------------------


class VGGDistance(Metric):
    """VGG distance (the paper's eq. 2) with the paper's front end: 44.1 kHz, mel up to 22050 Hz; lower is better.

    Mean absolute difference between the post-processed VGGish embeddings (PCA, clip to [-2, 2],
    8-bit quantisation 0..255) of reference and estimate, averaged over 128 dimensions and the
    0.96-s examples, on the mono downmix (mean of channels). Front end: audio at 44100 Hz (other
    rates are resampled to it with soxr), window 1102 samples, hop 441, FFT 2048, 64 HTK-mel bands
    125-22050 Hz, log(mel + 0.01). Audio shorter than one example is zero-padded to one; a last
    partial example is dropped. Range [0, 255]. Weights: spec ``weights=PATH``,
    $AUDIOENH_VGGISH_WEIGHTS or the cache file written by ``audioenh weights fetch vggish``.
    """

    higher_is_better = False
    unit = "embedding units (0-255)"
    front_end: FrontEnd = PAPER_FRONT_END

    def __init__(self, weights: str | None = None):
        self.weights = None if weights is None else str(weights)
        self.vggish = load_vggish(self.weights)

    def embeddings(self, audio: np.ndarray, sample_rate: int) -> np.ndarray:
        """Post-processed (examples, 128) embeddings of (channels, samples) audio."""
        mono = np.asarray(audio, dtype=np.float64)
        if mono.ndim == 2:
            mono = mono.mean(axis=0)
        rate = self.front_end.sample_rate
        if int(sample_rate) != rate:
            import soxr

            mono = soxr.resample(mono, int(sample_rate), rate)
        return self.vggish.embed(self.front_end.examples(mono))

    def compute(self, reference, estimate, sample_rate):
        ref = self.embeddings(reference, sample_rate)
        est = self.embeddings(estimate, sample_rate)
        return float(np.mean(np.abs(ref - est)))


class VGGDistance16k(VGGDistance):
    """VGG distance with the original VGGish front end: resampled to 16 kHz, mel 125-7500 Hz; lower is better.

    As ``vgg`` (mean absolute difference of post-processed VGGish embeddings, mono downmix, range
    [0, 255]) but with the front end the network was trained with: audio resampled to 16000 Hz
    with soxr, window 400 samples, hop 160, FFT 512, 64 HTK-mel bands 125-7500 Hz. Content above
    7.5 kHz is invisible to it.
    """

    front_end = ORIGINAL_FRONT_END
