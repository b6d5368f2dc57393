"""Every command through click's CliRunner, and the console script through a real subprocess."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner
from scipy import signal

from audioenh.cli import cli

from .conftest import SR, music_like


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def assert_one_line_error(result, fragment):
    assert result.exit_code != 0
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("Error: ")
    assert fragment in lines[0], lines[0]
    assert "Traceback" not in result.output


# -- list ---------------------------------------------------------------------
def test_list_json_schema():
    result = run("list", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {"degradations", "architectures", "metrics"} <= set(data)
    for kind in ("degradations", "architectures", "metrics"):
        for item in data[kind]:
            assert set(item) == {"name", "plugin", "signature", "doc"}
            assert all(isinstance(v, str) for v in item.values())
    cheby1 = next(i for i in data["degradations"] if i["name"] == "cheby1")
    assert cheby1 == {
        "name": "cheby1",
        "plugin": "audioenh",
        "signature": "order, cutoff=11025.0, rp=0.05",
        "doc": cheby1["doc"],
    }
    assert {"unet", "resnet"} <= {i["name"] for i in data["architectures"]}
    assert {"snr", "lsd", "lsd-hf"} <= {i["name"] for i in data["metrics"]}
    sets = {s["name"]: s["members"] for s in data["degradation_sets"]}
    assert len(sets["paper-multi"]) == 8


def test_list_one_kind():
    result = run("list", "metrics", "--json")
    assert set(json.loads(result.stdout)) == {"metrics"}
    text = run("list", "architectures").output
    assert "unet:preset=paper" in text and "cheby1" not in text


def test_list_unknown_kind():
    result = run("list", "filters")
    assert result.exit_code == 2 and "Invalid value" in result.output


# -- degrade ------------------------------------------------------------------
def test_degrade_pcm16_keeps_rate_channels_subtype(stereo_wav, tmp_path):
    out = tmp_path / "out.wav"
    result = run("degrade", stereo_wav, "-o", out, "--degrade", "cheby1:6")
    assert result.exit_code == 0, result.output
    info = sf.info(out)
    assert (info.samplerate, info.channels, info.subtype) == (SR, 2, "PCM_16")
    x, _ = sf.read(stereo_wav, always_2d=True)
    y, _ = sf.read(out, always_2d=True)
    expected = signal.filtfilt(*signal.cheby1(6, 0.05, 0.5), x.T, axis=-1).T
    np.testing.assert_allclose(y, expected, atol=2 / 32768)


def test_degrade_float_in_float_out_and_chain(float_wav, tmp_path):
    out = tmp_path / "out.wav"
    result = run("degrade", float_wav, "-o", out, "--degrade", "butter:6,cutoff=16000", "--degrade", "cheby1:6")
    assert result.exit_code == 0, result.output
    assert sf.info(out).subtype == "FLOAT"
    x, _ = sf.read(float_wav, always_2d=True, dtype="float64")
    y, _ = sf.read(out, always_2d=True, dtype="float64")
    step = signal.filtfilt(*signal.butter(6, 16000 / 22050), x.T, axis=-1)
    expected = signal.filtfilt(*signal.cheby1(6, 0.05, 0.5), step, axis=-1).T
    np.testing.assert_allclose(y, expected, atol=1e-6)


def test_degrade_mono_and_other_rate(tmp_path):
    src = tmp_path / "mono.flac"
    sf.write(src, music_like(0.2, sr=32000, channels=1)[0] * 0.5, 32000, subtype="PCM_24")
    out = tmp_path / "mono_out.flac"
    result = run("degrade", src, "-o", out, "-d", "butter:4,cutoff=8000")
    assert result.exit_code == 0, result.output
    info = sf.info(out)
    assert (info.samplerate, info.channels, info.subtype, info.frames) == (32000, 1, "PCM_24", 6400)


def test_degrade_refuses_to_overwrite_input(stereo_wav):
    before = stereo_wav.read_bytes()
    result = run("degrade", stereo_wav, "-o", stereo_wav, "-d", "cheby1:6")
    assert_one_line_error(result, "refusing to overwrite the input")
    assert stereo_wav.read_bytes() == before
    # also through another spelling of the same path
    other = stereo_wav.parent / "." / stereo_wav.name
    assert_one_line_error(run("degrade", stereo_wav, "-o", other, "-d", "cheby1:6"), "refusing to overwrite")


@pytest.mark.parametrize(
    "spec, fragment",
    [
        ("cheby3:6", "unknown degradation 'cheby3'; did you mean"),
        ("cheby1:6,,", "malformed spec"),
        ("cheby1:6,foo=2", "accepted: cheby1:order, cutoff=11025.0, rp=0.05"),
        ("cheby1", "missing a required argument: 'order'"),
        ("butter:6,cutoff=30000", "at or above the Nyquist frequency"),
        ("paper-multi", "is a set of alternatives"),
    ],
)
def test_degrade_bad_specs(stereo_wav, tmp_path, spec, fragment):
    out = tmp_path / "o.wav"
    assert_one_line_error(run("degrade", stereo_wav, "-o", out, "-d", spec), fragment)
    assert not out.exists()


def test_bad_input_files(tmp_path):
    missing = tmp_path / "missing.wav"
    text = tmp_path / "notes.wav"
    text.write_text("this is not audio\n")
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    silent = tmp_path / "zero.wav"
    sf.write(silent, np.zeros((0, 2)), SR)
    nan = tmp_path / "nan.wav"
    sf.write(nan, np.full((100, 2), np.nan), SR, subtype="FLOAT")
    out = tmp_path / "o.wav"
    for path, fragment in [
        (missing, "no such file"),
        (text, "not a readable audio file"),
        (empty, "the file is empty"),
        (silent, "contains no samples"),
        (nan, "contains NaN or infinite samples"),
    ]:
        assert_one_line_error(run("degrade", path, "-o", out, "-d", "cheby1:6"), fragment)
        assert_one_line_error(run("metric", path, path), fragment)
    assert not out.exists()


def test_degrade_unknown_output_extension(stereo_wav, tmp_path):
    assert_one_line_error(
        run("degrade", stereo_wav, "-o", tmp_path / "o.xyz", "-d", "cheby1:6"), "unknown audio extension .xyz"
    )
    assert not list(tmp_path.glob("*.part"))


# -- metric -------------------------------------------------------------------
def test_metric_json(stereo_wav, tmp_path):
    out = tmp_path / "lp.wav"
    assert run("degrade", stereo_wav, "-o", out, "-d", "cheby1:6").exit_code == 0
    result = run("metric", stereo_wav, out, "--metric", "snr", "--metric", "lsd", "--metric", "lsd-hf", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"snr", "lsd", "lsd-hf"}
    x, _ = sf.read(stereo_wav, always_2d=True)
    y, _ = sf.read(out, always_2d=True)
    assert data["snr"] == pytest.approx(10 * np.log10(np.sum(x**2) / np.sum((x - y) ** 2)))
    assert data["lsd-hf"] > data["lsd"] > 0


def test_metric_reports_band_edges_on_request(stereo_wav, tmp_path):
    """``--edges``: the reference is full band, the low-passed estimate ends near cheby1:6's edge
    (the same numbers as ``audioenh bandwidth``)."""
    out = tmp_path / "lp.wav"
    assert run("degrade", stereo_wav, "-o", out, "-d", "cheby1:6").exit_code == 0
    data = json.loads(run("metric", stereo_wav, out, "--edges", "--json").stdout)
    edges = data["band_edges"]
    assert edges["reference"]["full_band"] and edges["reference"]["edge"] == SR / 2
    assert 11000 < edges["estimate"]["edge"] < 13500 and not edges["estimate"]["full_band"]
    assert edges["estimate"] == {
        k: v for k, v in json.loads(run("bandwidth", out, "--json").stdout).items() if k != "file"
    }
    text = run("metric", stereo_wav, out, "--edges").output
    assert "full band  (reference" in text and f"{edges['estimate']['edge'] / 1000:.2f} kHz  (estimate" in text


def test_metric_identity_is_null_in_json(stereo_wav):
    data = json.loads(run("metric", stereo_wav, stereo_wav, "--json").stdout)
    assert data == {"snr": None}


def test_metric_human_output(stereo_wav):
    result = run("metric", stereo_wav, stereo_wav, "-m", "lsd")
    assert result.exit_code == 0 and "lsd" in result.output and "lower is better" in result.output


def test_metric_refuses_mismatches(stereo_wav, tmp_path):
    x, _ = sf.read(stereo_wav, always_2d=True)
    other_rate = tmp_path / "r.wav"
    sf.write(other_rate, x, 48000)
    mono = tmp_path / "m.wav"
    sf.write(mono, x[:, 0], SR)
    short = tmp_path / "s.wav"
    sf.write(short, x[:-10], SR)
    assert_one_line_error(
        run("metric", stereo_wav, other_rate), "sample rates differ: reference 44100 Hz, estimate 48000 Hz"
    )
    assert_one_line_error(run("metric", stereo_wav, mono), "channel counts differ: reference 2, estimate 1")
    assert_one_line_error(run("metric", stereo_wav, short), "lengths differ")
    assert_one_line_error(run("metric", stereo_wav, stereo_wav, "-m", "vggx"), "unknown metric 'vggx'; did you mean")


def test_metric_without_vggish_weights_says_how_to_get_them(stereo_wav, tmp_path, monkeypatch):
    monkeypatch.setenv("AUDIOENH_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.delenv("AUDIOENH_VGGISH_WEIGHTS", raising=False)
    assert_one_line_error(run("metric", stereo_wav, stereo_wav, "-m", "vgg"), "audioenh weights fetch vggish")


# -- model-info ---------------------------------------------------------------
@pytest.mark.parametrize("arch, params, gmacs", [("unet", 56_424_324, 415.3), ("resnet", 55_074_306, 3608.3)])
def test_model_info_json(arch, params, gmacs):
    result = run("model-info", "--arch", arch, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["params"] == params
    assert data["macs"] / 1e9 == pytest.approx(gmacs, abs=0.05)


def test_model_info_human_and_errors():
    result = run("model-info", "--arch", "resnet:preset=tiny")
    assert result.exit_code == 0 and "parameters" in result.output and "874" in result.output
    assert_one_line_error(
        run("model-info", "--arch", "resnett"), "unknown architecture 'resnett'; did you mean 'resnet'"
    )
    assert_one_line_error(run("model-info", "--arch", "unet:width=abc"), "unet")
    assert_one_line_error(run("model-info", "resnet:width=8"), "is an architecture spec, not a model; give it with -a")
    assert_one_line_error(run("model-info", "resnet-16"), "did you mean 'resnet-16k'?")


def test_help_lists_every_command():
    result = run("--help")
    for command in ("list", "degrade", "metric", "model-info"):
        assert command in result.output


def test_lazy_commands_show_their_own_help_line():
    """The built-in commands are added lazily with the first sentence of their help: it must be theirs."""
    import click

    from audioenh.commands.plugin import BUILTIN_COMMANDS

    listed = {line.split()[0]: line for line in run("--help").output.split("Commands:")[1].strip().splitlines()}
    assert set(listed) == set(BUILTIN_COMMANDS)
    for name, (_, help_line) in BUILTIN_COMMANDS.items():
        command = cli.get_command(click.Context(cli), name)  # imports it
        assert command.name == name
        assert " ".join(command.help.split()).startswith(help_line), name
        stand_in = click.Command(name, help=help_line)
        for limit in (45, 74 - len(name)):  # click's default and what --help allows the name in 80 columns
            assert stand_in.get_short_help_str(limit) == command.get_short_help_str(limit), (name, limit)
        assert listed[name].split(None, 1)[1] == command.get_short_help_str(80 - 6 - len("generalization-report"))


# -- a real subprocess --------------------------------------------------------
def console(*args, cwd=None):
    env = dict(os.environ, AUDIOENH_NO_PLUGINS="1")
    return subprocess.run(
        [sys.executable, "-m", "audioenh", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
    )


def python_lines(code: str) -> list[str]:
    """The stdout lines of ``code`` run by a fresh Python with only the built-in plugins."""
    env = dict(os.environ, AUDIOENH_NO_PLUGINS="1")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip().splitlines()


def test_help_starts_without_torch():
    """``audioenh --help`` loads every plugin but imports no command module, PyTorch or SciPy's signal."""
    lines = python_lines(
        "import sys\n"
        "from audioenh.cli import cli\n"
        "try:\n    cli(['--help'], prog_name='audioenh')\nexcept SystemExit as exc:\n    assert exc.code == 0\n"
        "heavy = [m for m in ('torch', 'scipy.signal', 'audioenh.commands.enhance') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    assert any("enhance" in line for line in lines) and lines[-1] == "HEAVY []"


def test_every_commands_help_starts_without_torch():
    """``audioenh CMD --help`` imports the command's module but neither PyTorch nor SciPy's signal
    module: help comes at once."""
    from audioenh.commands.plugin import BUILTIN_COMMANDS

    lines = python_lines(
        "import sys\n"
        "from audioenh.cli import cli\n"
        f"for name in {sorted(BUILTIN_COMMANDS)!r}:\n"
        "    try:\n        cli([name, '--help'], prog_name='audioenh')\n"
        "    except SystemExit as exc:\n        assert exc.code == 0, (name, exc.code)\n"
        "    assert not {'torch', 'scipy.signal'} & set(sys.modules), name\n"
        "print('LIGHT', len([m for m in sys.modules if m.startswith('audioenh.commands.')]))\n"
    )
    assert lines[-1] == f"LIGHT {len(BUILTIN_COMMANDS) + 2}"  # + options and plugin


def test_subprocess_end_to_end(stereo_wav, tmp_path):
    listed = console("list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert "cheby1" in {i["name"] for i in json.loads(listed.stdout)["degradations"]}

    out = tmp_path / "lp.flac"
    degraded = console("degrade", stereo_wav, "-o", out, "-d", "butter:6")
    assert degraded.returncode == 0, degraded.stderr
    scored = console("metric", stereo_wav, out, "-m", "snr", "--json")
    assert json.loads(scored.stdout)["snr"] > 0

    info = console("model-info", "--arch", "unet", "--json")
    assert json.loads(info.stdout)["params"] == 56_424_324

    bad = console("degrade", tmp_path / "nope.wav", "-o", out, "-d", "butter:6")
    assert bad.returncode == 1
    assert bad.stderr.strip().splitlines() == [f"Error: cannot read '{tmp_path / 'nope.wav'}': no such file"]
    assert bad.stdout == ""


def test_out_is_now_output_and_still_works(tmp_path):
    result = CliRunner().invoke(
        cli, ["data", "builtin", "--out", str(tmp_path / "c"), "--songs", "3", "--seconds", "0.5", "-q"]
    )
    assert result.exit_code == 0, result.output
    assert "note: --out is now --output" in result.output
    assert (tmp_path / "c" / "corpus.json").is_file()
    both = CliRunner().invoke(cli, ["data", "builtin", "--out", str(tmp_path / "d"), "-o", str(tmp_path / "e")])
    assert both.exit_code == 2 and "same option" in both.output
    missing = CliRunner().invoke(cli, ["data", "builtin", "--songs", "3"])
    assert missing.exit_code == 2 and "Missing option '-o' / '--output'" in missing.output


@pytest.mark.parametrize("command", ["train", "test", "enhance", "degrade", "generalization-report", "data builtin"])
def test_shared_options_have_one_help_text(command):
    """--device, --quiet, --output, --block, --seed and --data read the same wherever they appear."""
    from audioenh.commands import options

    texts = {}
    for maker in (options.device_option, options.quiet_option, options.context_option):
        (param,) = maker(lambda: None).__click_params__
        texts[param.name] = param.help
    sub = cli
    for part in command.split():
        sub = sub.get_command(None, part) if hasattr(sub, "get_command") else sub
    for param in sub.params:
        if param.name in texts:
            assert param.help == texts[param.name], f"{command} {param.name}"
