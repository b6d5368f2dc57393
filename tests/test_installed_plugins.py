"""The example plugins in plugins/, installed as real packages and loaded from their entry points.

Skipped unless both are installed (``pip install -e plugins/audioenh-example -e plugins/audioenh-codecs``).
Autoloading is turned on for these tests only; the registry-wide contracts are run over the plugins'
entries by calling the functions of tests/test_registry_wide.py.
"""

import importlib.metadata
import json
import warnings

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

from audioenh import plugins
from audioenh.cli import cli
from audioenh.training.loop import read_records

from . import test_registry_wide as registry_wide
from .conftest import SR, music_like

pytest.importorskip("audioenh_example", reason="plugins/audioenh-example is not installed")
pytest.importorskip("audioenh_codecs", reason="plugins/audioenh-codecs is not installed")


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:  # importable (e.g. on PYTHONPATH) but not installed
        pytest.skip(f"{dist} is importable but not installed: its entry point is missing", allow_module_level=True)


ORIGINS = {
    "example": f"example (audioenh-example {_version('audioenh-example')})",
    "codecs": f"codecs (audioenh-codecs {_version('audioenh-codecs')})",
}
ENTRIES = {
    "degradations": {"example-tilt": "example", "mp3": "codecs", "vorbis": "codecs", "opus": "codecs"},
    "architectures": {"example-conv": "example"},
    "metrics": {"example-peak-error": "example"},
}


@pytest.fixture
def autoload(monkeypatch):
    """Third-party autoloading on (the suite turns it off), with fresh registries before and after."""
    monkeypatch.setenv(plugins.DISABLE_ENV, "0")
    plugins.reset()
    yield
    plugins.reset()


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_plugins_load_without_warnings(autoload):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for kind in ENTRIES:
            plugins.get_registry(kind)
    ours = [str(w.message) for w in caught if issubclass(w.category, plugins.PluginWarning)]
    assert not [m for m in ours if "'example'" in m or "'codecs'" in m], ours
    loaded = {name for name, _ in plugins.get_plugin_manager().list_name_plugin()}
    assert {"example", "codecs"} <= loaded


def test_list_json_names_each_plugin_with_package_and_version(autoload):
    result = run("list", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    for kind, names in ENTRIES.items():
        listed = {item["name"]: item for item in data[kind]}
        for name, plugin in names.items():
            assert listed[name]["plugin"] == ORIGINS[plugin]
            assert listed[name]["doc"]
    assert {item["plugin"] for item in data["degradations"] if item["name"] == "cheby1"} == {"audioenh"}
    text = run("list", "degradations").output
    assert "mp3:bitrate=128" in text and f"[{ORIGINS['codecs']}]" in text


def test_without_autoloading_the_plugins_are_absent(monkeypatch):
    monkeypatch.setenv(plugins.DISABLE_ENV, "1")
    plugins.reset()
    data = json.loads(run("list", "--json").stdout)
    assert not {item["name"] for item in data["degradations"]} & set(ENTRIES["degradations"])


@pytest.fixture
def song(tmp_path):
    path = tmp_path / "in.wav"
    sf.write(path, (0.5 * music_like(1.0)).T, SR, subtype="PCM_16")
    return path


@pytest.mark.parametrize(
    "specs", [["mp3:128"], ["example-tilt"], ["example-tilt:gain=-12,frequency=1000", "vorbis:0.3", "opus:96"]]
)
def test_degrade_command(autoload, song, tmp_path, specs):
    out = tmp_path / "out.wav"
    result = run("degrade", song, "-o", out, *[a for s in specs for a in ("-d", s)])
    assert result.exit_code == 0, result.output
    x, _ = sf.read(song, always_2d=True)
    y, sr = sf.read(out, always_2d=True)
    assert sr == SR and y.shape == x.shape
    snr = 10 * np.log10(np.sum(x**2) / np.sum((x - y) ** 2))
    assert snr < 60  # degraded
    if len(specs) == 1:
        assert snr > 3  # and, for one codec or a mild tilt, still aligned with the input


def test_metric_command(autoload, song, tmp_path):
    out = tmp_path / "out.wav"
    assert run("degrade", song, "-o", out, "-d", "mp3:64").exit_code == 0
    result = run("metric", song, out, "--metric", "example-peak-error", "--metric", "snr", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["example-peak-error"] < 0 and data["snr"] > 0


@pytest.fixture
def corpus(tmp_path):
    """train/ (2 songs), val/ (1), test/ (1): 1.5-s stereo songs at 44.1 kHz."""
    root = tmp_path / "corpus"
    seed = 0
    for split, count in (("train", 2), ("val", 1), ("test", 1)):
        (root / split).mkdir(parents=True)
        for i in range(count):
            seed += 1
            sf.write(root / split / f"{split}-{i}.flac", (0.4 * music_like(1.5, seed=seed)).T, SR, subtype="PCM_24")
    return root


def test_train_with_plugin_architecture_and_degradations(autoload, corpus, tmp_path):
    out = tmp_path / "run"
    result = run(
        "train",
        "--arch",
        "example-conv:preset=tiny",
        "--degrade",
        "mp3:128",
        "--degrade",
        "example-tilt",
        "--data",
        corpus,
        "--output",
        out,
        "--iterations",
        4,
        "--chunk",
        1024,
        "--batch-size",
        2,
        "--record-every",
        2,
        "--val-offset",
        0.2,
        "--val-seconds",
        0.5,
        "--workers",
        0,
        "--device",
        "cpu",
        "--quiet",
    )
    assert result.exit_code == 0, result.output
    config = json.loads((out / "config.json").read_text())
    assert config["arch"].startswith("example-conv:") and "preset=tiny" in config["arch"]
    assert config["degradations"] == ["mp3:128", "example-tilt"]
    records = read_records(out)
    assert [r["iteration"] for r in records] == [2, 4]
    assert all(np.isfinite(r["loss"]) for r in records)
    assert (out / "checkpoints" / "last.pt").exists()


# -- the registry-wide contracts over the plugins' entries ----------------------------------------


@pytest.mark.parametrize("name", sorted(ENTRIES["degradations"]))
def test_degradation_contract(autoload, name):
    registry_wide.test_degradation_contract(name)


@pytest.mark.parametrize("name", sorted(ENTRIES["architectures"]))
def test_architecture_contract(autoload, name):
    registry_wide.test_architecture_tiny_forward_backward(name)


@pytest.mark.parametrize("name", sorted(ENTRIES["metrics"]))
def test_metric_contract(autoload, name):
    registry_wide.test_metric_contract(name)


@pytest.mark.parametrize("spec", ["cheby1:6+opus:96", "butter:order=8+mp3:192"])
def test_the_bundled_bank_does_not_amplify_a_codecs_noise(autoload, tmp_path, monkeypatch, spec):
    """A lossy round trip of a low-passed input keeps the filter's shape, so the 11025-Hz model is
    trusted, but the codec's noise lies above what the filter left of the music where it attenuated by
    40-80 dB: amplified by as much, it cost the bundled bank 5.8 dB (Opus) and 1.1 dB (MP3; 0.45 dB with
    the models run at -16 dBFS). The level limit keeps the output no worse."""
    from audioenh.data.builtin import generate_song
    from audioenh.degradations.chain import DegradationSampler
    from audioenh.evaluation import crossover

    song = generate_song(5, 4.0, SR).astype(np.float32)
    coded, _ = DegradationSampler(spec, SR).degrade(song, SR, np.random.default_rng(0))
    coded = np.asarray(coded, dtype=np.float32)
    sf.write(tmp_path / "in.wav", coded.T, SR, subtype="FLOAT")

    said = {}

    def gain_db(out_name):
        result = run("enhance", tmp_path / "in.wav", "-o", tmp_path / out_name, "--float")
        assert result.exit_code == 0, result.output
        assert "picked from auto" in result.output  # a model was trusted and used
        said[out_name] = result.output.splitlines()[0]
        out = sf.read(tmp_path / out_name, dtype="float32", always_2d=True)[0].T
        return 10 * np.log10(np.sum((song - coded) ** 2) / np.sum((song - out) ** 2))

    assert gain_db("limited.wav") > -0.05
    assert "held to the music's level" in said["limited.wav"]
    analyzed = run("enhance", tmp_path / "in.wav", "--analyze")  # says what enhance would do, limit included
    assert analyzed.exit_code == 0 and analyzed.output.startswith(said["limited.wav"] + " [bundled model")
    monkeypatch.setattr(crossover, "LIMIT_FROM_DB", np.inf)  # the limit never applies
    assert gain_db("unlimited.wav") < -0.3
