"""VGGish distance: weights layout, front ends, the metric, and fetching weights (never over the network)."""

import hashlib
import os
import urllib.error
import urllib.request

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from scipy import signal

from audioenh.cli import cli
from audioenh.commands.weights import weights
from audioenh.errors import CheckpointError, MetricUnavailableError
from audioenh.metrics import vggish as vg
from audioenh.plugins import metrics

from .conftest import SR, music_like

PUBLISHED_MODEL = "vggish-10086976.pth"
PUBLISHED_PCA = "vggish_pca_params-970ea276.pth"


def random_network_state(seed=0):
    """A VGGish state dict with He-initialised weights (so activations keep their scale) and zero biases."""
    torch.manual_seed(seed)
    model = vg.VGGish()
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.Conv2d | torch.nn.Linear):
                module.weight.normal_(0.0, (2.0 / module.weight[0].numel()) ** 0.5)
                module.bias.zero_()
    return model.state_dict()


@pytest.fixture(scope="module")
def weight_files(tmp_path_factory):
    """Random weights written in both published layouts: one merged file, and the two release files."""
    state = random_network_state()
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.standard_normal((128, 128)))
    pca_vectors = 0.3 * q  # keeps the projected embeddings mostly inside the [-2, 2] clip range
    pca_means = 0.1 * rng.standard_normal(128)
    merged = tmp_path_factory.mktemp("merged") / "vggish.pth"
    torch.save(
        {
            **state,
            "pproc.pca_eigen_vectors": torch.tensor(pca_vectors, dtype=torch.float32),
            "pproc.pca_means": torch.tensor(pca_means.reshape(128, 1), dtype=torch.float32),
        },
        merged,
    )
    published = tmp_path_factory.mktemp("published")
    torch.save(state, published / PUBLISHED_MODEL)
    # the published PCA file stores numpy arrays, means shaped (128,)
    torch.save({"pca_eigen_vectors": pca_vectors, "pca_means": pca_means}, published / PUBLISHED_PCA)
    return {"merged": merged, "published": published}


@pytest.fixture
def no_weights(tmp_path, monkeypatch):
    monkeypatch.delenv(vg.WEIGHTS_ENV, raising=False)
    monkeypatch.setenv("AUDIOENH_CACHE", str(tmp_path / "empty-cache"))


# -- layout ----------------------------------------------------------------------------------------


def test_keys_table_is_the_torchvggish_layout():
    expected_network = {
        "features.0.weight": (64, 1, 3, 3),
        "features.0.bias": (64,),
        "features.3.weight": (128, 64, 3, 3),
        "features.3.bias": (128,),
        "features.6.weight": (256, 128, 3, 3),
        "features.6.bias": (256,),
        "features.8.weight": (256, 256, 3, 3),
        "features.8.bias": (256,),
        "features.11.weight": (512, 256, 3, 3),
        "features.11.bias": (512,),
        "features.13.weight": (512, 512, 3, 3),
        "features.13.bias": (512,),
        "embeddings.0.weight": (4096, 12288),
        "embeddings.0.bias": (4096,),
        "embeddings.2.weight": (4096, 4096),
        "embeddings.2.bias": (4096,),
        "embeddings.4.weight": (128, 4096),
        "embeddings.4.bias": (128,),
    }
    assert vg.NETWORK_KEYS == expected_network
    assert vg.VGGISH_KEYS == {**expected_network, "pproc.pca_eigen_vectors": (128, 128), "pproc.pca_means": (128, 1)}
    state = vg.VGGish().state_dict()
    assert {k: tuple(v.shape) for k, v in state.items()} == expected_network
    assert vg.VGGish()(torch.zeros(3, 1, 96, 64)).shape == (3, 128)


def test_postprocess_pca_clip_quantise():
    emb = np.array([[1.0, 2.0], [0.0, -10.0]])
    vectors = np.array([[1.0, 0.0], [0.5, 0.5]])
    means = np.array([0.0, 1.0])
    # (emb - means) @ vectors.T = [[1, 1], [0, -5.5]] -> clip [[1, 1], [0, -2]] -> round((v + 2) * 63.75)
    out = vg.postprocess(emb, vectors, means)
    np.testing.assert_array_equal(out, [[191.0, 191.0], [128.0, 0.0]])


# -- front ends --------------------------------------------------------------------------------------


def independent_log_mel(x, sr, window, hop, n_fft, fmax):
    """Direct computation: frame loop, scipy's periodic Hann, mel bands built one by one from 1127 ln(1 + f/700)."""
    w = signal.get_window("hann", window, fftbins=True)
    n_frames = 1 + (len(x) - window) // hop
    mags = np.array([np.abs(np.fft.rfft(x[i * hop : i * hop + window] * w, n_fft)) for i in range(n_frames)])

    def mel(f):
        return 1127.0 * np.log(1.0 + f / 700.0)

    freqs = np.arange(n_fft // 2 + 1) * sr / n_fft
    edges = [mel(125.0) + (mel(fmax) - mel(125.0)) * i / 65 for i in range(66)]
    bank = np.zeros((n_fft // 2 + 1, 64))
    for b in range(64):
        lo, centre, hi = edges[b : b + 3]
        for k in range(1, n_fft // 2 + 1):  # the DC bin has weight 0
            m = mel(freqs[k])
            if lo < m <= centre:
                bank[k, b] = (m - lo) / (centre - lo)
            elif centre < m < hi:
                bank[k, b] = (hi - m) / (hi - centre)
    return np.log(mags @ bank + 0.01)


@pytest.mark.parametrize(
    "front_end, sr, window, hop, n_fft, fmax",
    [(vg.PAPER_FRONT_END, 44100, 1102, 441, 2048, 22050.0), (vg.ORIGINAL_FRONT_END, 16000, 400, 160, 512, 7500.0)],
)
def test_log_mel_against_independent_computation(front_end, sr, window, hop, n_fft, fmax):
    assert (front_end.window_length, front_end.hop_length, front_end.fft_length) == (window, hop, n_fft)
    assert front_end.example_frames == 96 and front_end.mel_bins == 64
    x = music_like(0.3, sr=sr, channels=1, seed=3)[0]
    ours = front_end.log_mel(x)
    np.testing.assert_allclose(ours, independent_log_mel(x, sr, window, hop, n_fft, fmax), rtol=1e-9, atol=1e-9)


def test_examples_are_96_frame_patches_without_overlap():
    fe = vg.PAPER_FRONT_END
    x = music_like(2.5, channels=1)[0]
    spec = fe.log_mel(x)
    ex = fe.examples(x)
    assert ex.shape == (spec.shape[0] // 96, 96, 64) == (2, 96, 64)
    np.testing.assert_array_equal(ex[1], spec[96:192])
    assert fe.examples(x[:1000]).shape == (1, 96, 64)  # shorter than one example: zero-padded to one


# -- the metric ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["vgg", "vgg16k"])
def test_identity_zero_and_harsher_lowpass_scores_worse(weight_files, name):
    metric = metrics().create(f"{name}:weights={weight_files['merged']}")
    assert metric.higher_is_better is False
    x = music_like(2.0)
    mild = signal.filtfilt(*signal.butter(8, 11025 / 22050), x, axis=-1)
    harsh = signal.filtfilt(*signal.butter(8, 4000 / 22050), x, axis=-1)
    assert metric(x, x, SR) == 0.0
    d_mild, d_harsh = metric(x, mild, SR), metric(x, harsh, SR)
    assert 0.0 <= d_mild < d_harsh <= 255.0
    assert metric(x, harsh, SR) == d_harsh  # deterministic


def test_paper_front_end_sees_the_band_above_8k_the_original_does_not(weight_files):
    x = music_like(2.0)
    mild = signal.filtfilt(*signal.butter(8, 11025 / 22050), x, axis=-1)
    paper = metrics().create(f"vgg:weights={weight_files['merged']}")(x, mild, SR)
    original = metrics().create(f"vgg16k:weights={weight_files['merged']}")(x, mild, SR)
    assert paper > 0.0 and paper > original


def test_published_two_file_layout_gives_the_same_value(weight_files):
    x = music_like(1.0)
    harsh = signal.filtfilt(*signal.butter(8, 4000 / 22050), x, axis=-1)
    merged = metrics().create(f"vgg:weights={weight_files['merged']}")(x, harsh, SR)
    published = metrics().create(f"vgg:weights={weight_files['published'] / PUBLISHED_MODEL}")(x, harsh, SR)
    assert published == merged


def test_weights_found_through_environment_then_cache(weight_files, tmp_path, monkeypatch):
    monkeypatch.setenv(vg.WEIGHTS_ENV, str(weight_files["merged"]))
    assert metrics().create("vgg").vggish.path == weight_files["merged"]
    assert metrics().create("vgg:weights=auto").vggish.path == weight_files["merged"]  # as `audioenh list` shows it
    monkeypatch.delenv(vg.WEIGHTS_ENV)
    monkeypatch.setenv("AUDIOENH_CACHE", str(tmp_path))
    os.link(weight_files["merged"], tmp_path / "vggish.pth")
    assert metrics().create("vgg16k").vggish.path == tmp_path / "vggish.pth"


def test_missing_weights_raise_one_line(no_weights):
    with pytest.raises(MetricUnavailableError) as info:
        metrics().create("vgg")
    message = str(info.value)
    assert "\n" not in message
    assert "audioenh weights fetch vggish" in message and vg.WEIGHTS_ENV in message


def test_missing_weights_through_the_cli(no_weights, stereo_wav):
    result = CliRunner().invoke(cli, ["metric", str(stereo_wav), str(stereo_wav), "-m", "vgg"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: VGGish weights not found")
    assert "Traceback" not in result.output


def test_wrong_shapes_and_keys_are_one_line_errors(tmp_path):
    # stride-0 tensors of the right shape keep the file tiny
    state = {k: torch.zeros(1).expand(shape) for k, shape in vg.VGGISH_KEYS.items()}
    state["embeddings.4.weight"] = torch.zeros(1).expand(64, 4096)
    bad_shape = tmp_path / "bad_shape.pth"
    torch.save(state, bad_shape)
    with pytest.raises(CheckpointError, match=r"embeddings\.4\.weight has shape \(64, 4096\), expected \(128, 4096\)"):
        metrics().create(f"vgg:weights={bad_shape}")
    del state["features.0.bias"]
    state["classifier.weight"] = torch.zeros(3)
    bad_keys = tmp_path / "bad_keys.pth"
    torch.save(state, bad_keys)
    with pytest.raises(CheckpointError) as info:
        metrics().create(f"vgg:weights={bad_keys}")
    assert "features.0.bias" in str(info.value) and "classifier.weight" in str(info.value)
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"not a torch file")
    with pytest.raises(CheckpointError) as info:
        metrics().create(f"vgg:weights={garbage}")
    assert "\n" not in str(info.value)


def test_network_without_pca_is_refused(tmp_path):
    state = {k: torch.zeros(1).expand(shape) for k, shape in vg.NETWORK_KEYS.items()}
    torch.save(state, tmp_path / "net.pth")
    with pytest.raises(CheckpointError, match="no PCA parameters"):
        vg.load_vggish(tmp_path / "net.pth")


# -- audioenh weights ----------------------------------------------------------------------------------


def test_fetch_offline_is_one_line_and_writes_nothing(tmp_path, monkeypatch):
    def offline(*args, **kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    monkeypatch.setenv("AUDIOENH_CACHE", str(tmp_path / "cache"))
    target = tmp_path / "out" / "vggish.pth"
    for args in (["fetch", "vggish", "--to", str(target)], ["fetch", "vggish"]):
        result = CliRunner().invoke(weights, args)
        assert result.exit_code == 1
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: cannot download https://github.com/harritaylor/")
        assert "Temporary failure in name resolution" in lines[0]
    assert not target.exists() and not list((tmp_path / "out").iterdir())
    assert not (tmp_path / "cache").exists() or not list((tmp_path / "cache").iterdir())


def _serve_files(monkeypatch, files):
    """urlopen replaced by one that serves local files by URL."""

    def fake_urlopen(url, timeout=None):
        return open(files[url], "rb")

    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)


def test_fetch_merges_the_published_files(tmp_path, monkeypatch):
    # the two release files, small: stride-0 network tensors, numpy PCA arrays as published
    release = tmp_path / "release"
    release.mkdir()
    torch.save(
        {k: torch.full((1,), 0.5).expand(shape) for k, shape in vg.NETWORK_KEYS.items()}, release / PUBLISHED_MODEL
    )
    vectors, means = np.eye(128) * 0.25, np.arange(128.0)
    torch.save({"pca_eigen_vectors": vectors, "pca_means": means}, release / PUBLISHED_PCA)
    files = {
        vg.PUBLISHED_FILES["model"][0]: release / PUBLISHED_MODEL,
        vg.PUBLISHED_FILES["pca"][0]: release / PUBLISHED_PCA,
    }
    hashes = {url: hashlib.sha256(path.read_bytes()).hexdigest()[:8] for url, path in files.items()}
    monkeypatch.setattr(
        vg, "PUBLISHED_FILES", {role: (url, hashes[url]) for role, (url, _) in vg.PUBLISHED_FILES.items()}
    )
    _serve_files(monkeypatch, files)
    target = tmp_path / "w" / "vggish.pth"
    result = CliRunner().invoke(weights, ["fetch", "vggish", "--to", str(target)])
    assert result.exit_code == 0, result.output
    assert f"wrote {target}" in result.output
    assert sorted(p.name for p in target.parent.iterdir()) == ["vggish.pth"]
    merged = torch.load(target, weights_only=True)  # plain tensors only
    assert {k: tuple(v.shape) for k, v in merged.items()} == vg.VGGISH_KEYS
    np.testing.assert_array_equal(merged["pproc.pca_means"].numpy()[:, 0], means)
    np.testing.assert_array_equal(merged["pproc.pca_eigen_vectors"].numpy(), vectors)
    assert float(merged["embeddings.0.weight"][7, 9]) == 0.5
    loaded = vg.load_vggish(target)
    assert loaded.pca_vectors.shape == (128, 128) and loaded.pca_means.shape == (128,)


def test_fetch_with_a_wrong_hash_writes_nothing(weight_files, tmp_path, monkeypatch):
    published = weight_files["published"]
    # serve the small PCA file under both URLs: its hash matches neither published prefix
    _serve_files(monkeypatch, {url: published / PUBLISHED_PCA for url, _ in vg.PUBLISHED_FILES.values()})
    target = tmp_path / "w" / "vggish.pth"
    result = CliRunner().invoke(weights, ["fetch", "vggish", "--to", str(target)])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: vggish-10086976.pth: SHA-256")
    assert not list(target.parent.iterdir())


def test_weights_path(tmp_path, monkeypatch, no_weights):
    result = CliRunner().invoke(weights, ["path", "vggish"])
    assert result.exit_code == 0
    assert str(tmp_path / "empty-cache" / "vggish.pth") in result.output and "missing" in result.output
    monkeypatch.setenv(vg.WEIGHTS_ENV, str(tmp_path / "mine.pth"))
    result = CliRunner().invoke(weights, ["path", "vggish"])
    assert result.output.splitlines()[0] == str(tmp_path / "mine.pth")
