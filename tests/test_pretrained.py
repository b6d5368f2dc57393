"""The bundled model: packaged, loadable without code, used by enhance when no model is named,
listed and described; enhance copies tags and refuses AAC with a hint."""

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from click.testing import CliRunner
from scipy import signal

from audioenh import pretrained
from audioenh.checkpoint import TRAINING_STATE, inference_checkpoint, load_checkpoint, save_checkpoint
from audioenh.cli import cli
from audioenh.data.builtin import generate_song
from audioenh.plugins import architectures

SR = 44100
MAX_BYTES = 5_000_000


@pytest.fixture(scope="module")
def song():
    return generate_song(5, 3.0, SR).astype(np.float32)


def level_db(x):
    return 10 * np.log10(np.sum(np.asarray(x, np.float64) ** 2) + 1e-300)


def test_every_bundled_model_is_in_the_package_small_and_safe_to_load():
    assert pretrained.DEFAULT in pretrained.BANKS
    for bank in pretrained.BANKS.values():
        assert bank.members and set(bank.members) <= set(pretrained.BUNDLED)
    for model in pretrained.BUNDLED.values():
        data = model.resource.read_bytes()
        assert 0 < len(data) <= MAX_BYTES
        checkpoint = load_checkpoint(model.resource)  # weights_only=True inside
        assert not set(TRAINING_STATE) & set(checkpoint)  # an inference checkpoint: no optimizer state
        card = checkpoint["card"]
        for key in ("summary", "command", "data", "data_licence", "licence"):
            assert card[key], key
        assert "real" not in " ".join(checkpoint["config"]["data"])  # never the real-recording set
        net = architectures().create(checkpoint["architecture"])
        net.load_state_dict(checkpoint["model"])
        assert sum(p.numel() for p in net.parameters()) == sum(v.numel() for v in checkpoint["model"].values())
        # it learnt something: its own validation gained
        seen = checkpoint["validation"]["seen"]
        assert seen["output"] - seen["input"] > 0.1


def test_inference_checkpoint_drops_training_state_and_keeps_the_weights(tmp_path):
    net = architectures().create("resnet:preset=tiny,width=8")
    full = {
        "format": "audioenh-checkpoint-2",
        "arch": "resnet:preset=tiny,width=8",
        "sample_rate": SR,
        "model": net.state_dict(),
        "optimizer": {"state": {}, "param_groups": []},
        "schedule": {"lr": 1e-3},
        "rng": {"torch": torch.get_rng_state()},
        "iteration": 7,
    }
    small = inference_checkpoint(full, {"summary": "s"})
    assert "optimizer" not in small and "rng" not in small and "schedule" not in small
    assert small["iteration"] == 7 and small["card"] == {"summary": "s"}
    save_checkpoint(tmp_path / "m.pt", small)
    back = load_checkpoint(tmp_path / "m.pt")
    for key, value in net.state_dict().items():
        assert torch.equal(back["model"][key], value)


def test_enhance_without_a_model_uses_the_bundled_one_and_says_what_it_restores(song, tmp_path):
    sos = signal.cheby1(6, 0.05, 11025, fs=SR, output="sos")
    limited = signal.sosfiltfilt(sos, song, axis=-1).astype(np.float32)
    src = tmp_path / "limited.wav"
    sf.write(src, limited.T, SR, subtype="FLOAT")
    result = CliRunner().invoke(cli, ["enhance", str(src), "-o", str(tmp_path / "out.wav"), "--float"])
    assert result.exit_code == 0, result.output
    assert "with bundled model resnet-11k-cheby1 (picked from auto)" in result.output
    assert "band ends at 1" in result.output and "restoring" in result.output
    out, rate = sf.read(tmp_path / "out.wav", dtype="float32", always_2d=True)
    assert rate == SR and out.shape == limited.T.shape
    # below the band edge the output is the input (safe mode)
    window = np.hanning(limited.shape[-1])
    added = np.abs(np.fft.rfft((out.T - limited) * window)) ** 2
    total = np.abs(np.fft.rfft(limited * window)) ** 2
    below = np.fft.rfftfreq(limited.shape[-1], 1 / SR) < 10000
    assert 10 * np.log10(added[:, below].sum() / total.sum()) < -90
    assert level_db(out.T - limited) - level_db(limited) > -80  # and above it, something was added


def test_enhance_with_the_bundled_model_returns_a_full_band_input_unchanged(song, tmp_path):
    src = tmp_path / "full.wav"
    sf.write(src, song.T, SR, subtype="FLOAT")
    result = CliRunner().invoke(cli, ["enhance", "--model", "resnet-da", str(src), "-o", str(tmp_path / "o.wav")])
    assert result.exit_code == 0, result.output
    assert "full band" in result.output
    out = sf.read(tmp_path / "o.wav", dtype="float64", always_2d=True)[0].T
    assert np.max(np.abs(out - song)) < 2**-22  # 24-bit PCM of the same samples


def test_enhance_keeps_the_checkpoint_first_form_and_takes_model_files(tmp_path, stereo_wav):
    model = pretrained.bundled("resnet-da").resource
    ckpt = tmp_path / "model.pt"
    ckpt.write_bytes(model.read_bytes())
    for args in (
        [str(ckpt), str(stereo_wav), "-o", str(tmp_path / "a.wav")],
        ["--model", str(ckpt), str(stereo_wav), "-o", str(tmp_path / "b.wav")],
    ):
        result = CliRunner().invoke(cli, ["enhance", *args])
        assert result.exit_code == 0, result.output
        assert f"with {ckpt}" in result.output
    assert np.array_equal(sf.read(tmp_path / "a.wav")[0], sf.read(tmp_path / "b.wav")[0])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--model", "no-such-model", "IN", "-o", "OUT"], "no model 'no-such-model': not a checkpoint file"),
        (["--model", "resnet-16", "IN", "-o", "OUT"], "did you mean 'resnet-16k'? bundled: auto, resnet-da"),
        (["MODEL"], "is a model; give the INPUT files"),
        (["SONGS", "-o", "OUT"], "is a folder, not an audio file or a training run (no checkpoints/last.pt)"),
        (["MODEL", "IN", "SONGS", "-o", "OUT"], "give the files in it (e.g. "),
    ],
)
def test_enhance_model_errors_are_one_line(tmp_path, stereo_wav, args, message):
    ckpt = tmp_path / "model.pt"
    ckpt.write_bytes(pretrained.bundled("resnet-da").resource.read_bytes())
    (tmp_path / "songs").mkdir()
    names = {
        "IN": str(stereo_wav),
        "OUT": str(tmp_path / "o.wav"),
        "MODEL": str(ckpt),
        "SONGS": str(tmp_path / "songs"),
    }
    args = [names.get(a, a) for a in args]
    result = CliRunner().invoke(cli, ["enhance", *args])
    assert result.exit_code != 0
    assert message in result.output and "Traceback" not in result.output
    assert not (tmp_path / "o.wav").exists()


def test_an_unknown_bundled_name_lists_the_bundled_ones():
    with pytest.raises(Exception, match="bundled: resnet-da"):
        pretrained.bundled("nope")


def test_enhance_copies_the_input_tags(tmp_path):
    src = tmp_path / "tagged.flac"
    with sf.SoundFile(src, "w", SR, 2, format="FLAC") as f:
        f.title, f.artist, f.album = "A Song", "A Band", "An Album"
        f.write(generate_song(2, 1.0, SR).T * 0.5)
    result = CliRunner().invoke(cli, ["enhance", str(src), "-o", str(tmp_path / "out.wav")])
    assert result.exit_code == 0, result.output
    with sf.SoundFile(tmp_path / "out.wav") as f:
        assert (f.title, f.artist, f.album) == ("A Song", "A Band", "An Album")


def write_m4a(path, audio, sample_rate=SR, **tags):
    """Encode (channels, samples) float audio as AAC in an M4A container with PyAV."""
    import av

    with av.open(str(path), "w") as container:
        container.metadata.update(tags)
        stream = container.add_stream("aac", rate=sample_rate)
        stream.layout = "stereo" if audio.shape[0] == 2 else "mono"
        for i in range(0, audio.shape[1], 1024):
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(audio[:, i : i + 1024], dtype=np.float32), format="fltp", layout=stream.layout.name
            )
            frame.sample_rate = sample_rate
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


def test_enhance_reads_m4a_through_pyav_with_its_tags(song, tmp_path):
    """AAC/M4A, which libsndfile cannot decode, is decoded by PyAV into a temporary WAV (removed
    afterwards): the output has the input's length, rate and tags, and the band it restores."""
    pytest.importorskip("av")  # in the test extra, so CI runs this
    import tempfile

    sos = signal.cheby1(6, 0.05, 11025, fs=SR, output="sos")
    limited = (0.5 * signal.sosfiltfilt(sos, song, axis=-1)).astype(np.float32)
    src = tmp_path / "song.m4a"
    write_m4a(src, limited, title="A Song", artist="A Band")
    with pytest.raises(sf.LibsndfileError):
        sf.info(str(src))
    before = set(Path(tempfile.gettempdir()).glob("audioenh-decoded-*"))
    result = CliRunner().invoke(cli, ["enhance", str(src), "-o", str(tmp_path / "out.flac")])
    assert result.exit_code == 0, result.output
    assert f"{src}: band ends at 1" in result.output and "restoring" in result.output
    with sf.SoundFile(tmp_path / "out.flac") as f:
        assert (f.samplerate, f.channels) == (SR, 2) and (f.title, f.artist) == ("A Song", "A Band")
        out = f.read(dtype="float32").T
    assert abs(out.shape[1] - limited.shape[1]) <= 2048  # AAC's priming and padding, at most a frame or two
    # the same music, delayed by the codec's priming (at most 2048 samples)
    a, b = limited[0, 4096:-4096], out[0]
    lags = range(0, 2049)
    corr = [np.corrcoef(a, b[4096 + lag : 4096 + lag + a.size])[0, 1] for lag in lags]
    assert max(corr) > 0.95, max(corr)  # (unaligned: below 0.2)
    assert set(Path(tempfile.gettempdir()).glob("audioenh-decoded-*")) == before  # nothing left behind
    analyzed = CliRunner().invoke(cli, ["enhance", "--analyze", str(src)])
    assert analyzed.exit_code == 0 and "band ends at 1" in analyzed.output


def test_enhance_refuses_undecodable_or_unreadable_aac_in_one_line(tmp_path, monkeypatch):
    src = tmp_path / "song.m4a"
    src.write_bytes(b"\x00\x00\x00\x20ftypM4A " + bytes(200))
    result = CliRunner().invoke(cli, ["enhance", str(src), "-o", str(tmp_path / "o.flac")])
    assert result.exit_code != 0
    line = result.output.strip()
    assert "cannot read" in line and "song.m4a" in line and len(line.splitlines()) == 1
    assert not (tmp_path / "o.flac").exists()
    # without PyAV: the hint says how to convert it or install PyAV
    import builtins

    real_import = builtins.__import__

    def no_av(name, *args, **kwargs):
        if name == "av":
            raise ImportError("no av")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_av)
    result = CliRunner().invoke(cli, ["enhance", str(src), "-o", str(tmp_path / "o.flac")])
    line = result.output.strip()
    assert result.exit_code != 0 and len(line.splitlines()) == 1
    assert "need PyAV" in line and "pip install 'audioenh[aac]'" in line and "ffmpeg -i song.m4a song.flac" in line


def test_list_models_and_model_info_describe_the_bundled_model():
    runner = CliRunner()
    text = runner.invoke(cli, ["list", "models"])
    assert text.exit_code == 0, text.output
    assert f"auto (default): a bank of {', '.join(pretrained.BANKS['auto'].members)}" in text.output
    listed = json.loads(runner.invoke(cli, ["list", "models", "--json"]).output)["models"]
    assert [m["name"] for m in listed] == [*pretrained.BUNDLED, *pretrained.BANKS]
    assert listed[0]["bytes"] == len(pretrained.bundled("resnet-da").resource.read_bytes())
    auto = listed[-1]
    assert auto["default"] and auto["members"] == list(pretrained.BANKS["auto"].members)
    assert auto["bytes"] == sum(m["bytes"] for m in listed if m["name"] in auto["members"])

    info = runner.invoke(cli, ["model-info", "resnet-da"])
    assert info.exit_code == 0, info.output
    for words in ("bundled model resnet-da", "trained on", "paper-multi", "data licence", "parameters"):
        assert words in info.output
    data = json.loads(runner.invoke(cli, ["model-info", "resnet-da", "--json"]).output)
    net = architectures().create(data["model"]["architecture"])
    assert data["params"] == sum(p.numel() for p in net.parameters())
    assert data["model"]["card"]["data_licence"]
    # the paper's eight filters, each validated on the built-in validation songs (response_validation)
    assert data["model"]["responses_validated"] == {"validated": 8, "responses": 8}
    assert "safe mode      trusted on 8 of 8 training band limits" in info.output


def test_model_info_needs_a_model_or_an_architecture():
    result = CliRunner().invoke(cli, ["model-info"])
    assert result.exit_code != 0 and "give either a MODEL or -a/--arch SPEC" in result.output


def test_model_info_describes_a_bank_model_by_model():
    runner = CliRunner()
    members = pretrained.BANKS["auto"].members
    info = runner.invoke(cli, ["model-info", "auto"])
    assert info.exit_code == 0, info.output
    assert "bank           auto:" in info.output and f"models         {len(members)}" in info.output
    for name in members:
        assert f"bundled model {name}" in info.output
    data = json.loads(runner.invoke(cli, ["model-info", "auto", "--json"]).output)
    assert [m["model"] for m in data["bank"]["members"]] == [f"bundled model {n}" for n in members]
    # each model its own counts (resnet-11k-cheby2 has twice the blocks); the bank's are the largest
    counts = {m["model"]: m["params"] for m in data["bank"]["members"]}
    assert counts["bundled model resnet-11k-cheby1"] == 21970 and counts["bundled model resnet-11k-cheby2"] == 43666
    assert data["params"] == max(counts.values()) and data["macs"] == max(m["macs"] for m in data["bank"]["members"])
    assert info.output.count("parameters     21,970") == len(members) - 1 and "parameters     43,666" in info.output


def test_resolve_models_expands_a_bank_and_one_model_commands_refuse_it(tmp_path, monkeypatch, stereo_wav):
    auto = pretrained.BANKS["auto"]
    assert pretrained.resolve_models(None) == [pretrained.bundled(n).resource for n in auto.members]
    assert pretrained.resolve_models("auto") == pretrained.resolve_models(None)
    assert pretrained.resolve_models("resnet-da") == [pretrained.bundled("resnet-da").resource]
    assert pretrained.resolve_model(None) == pretrained.bundled(auto.members[0]).resource
    with pytest.raises(Exception, match="'auto' is a bank of bundled models .* name one of them"):
        pretrained.resolve_model("auto")
    result = CliRunner().invoke(cli, ["test", "auto", "-d", "cheby1:6", "--data", str(tmp_path), "-q"])
    assert result.exit_code != 0 and "is a bank of bundled models" in result.output
    assert "Traceback" not in result.output
    # a run folder called auto in the working directory wins over the bank
    monkeypatch.chdir(tmp_path)
    (tmp_path / "auto").mkdir()
    with pytest.raises(Exception, match="is a directory without checkpoints"):
        pretrained.resolve_models("auto")


def test_model_name_is_short(tmp_path):
    run = tmp_path / "my-run"
    (run / "checkpoints").mkdir(parents=True)
    (run / "checkpoints" / "last.pt").write_bytes(b"")
    assert pretrained.model_name(run) == "my-run"
    assert pretrained.model_name(run / "checkpoints" / "last.pt") == "my-run"
    assert pretrained.model_name(tmp_path / "model.pt") == "model"
    assert pretrained.model_name(pretrained.bundled("resnet-da").resource) == "resnet-da"


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("cheby1:order=8,cutoff=16000", "resnet-16k"),
        ("cheby2:order=8,cutoff=16000", "resnet-16k-cheby2"),
        ("ellip:order=12,cutoff=8000", "resnet-8k"),
        ("cheby2:order=8,cutoff=11025", "resnet-11k-cheby2"),
        ("ellip:order=4,cutoff=11025", "resnet-11k-cheby2"),
        ("cheby1:order=8,cutoff=11025", "resnet-11k-cheby1"),
        ("butter:order=12,cutoff=11025", "resnet-11k-cheby1"),
        ("butter:order=8,cutoff=13000", "resnet-13k"),
        ("ellip:order=8,cutoff=12000", "resnet-12k"),
        ("cheby2:order=8,cutoff=14500", "resnet-14k"),
        # gentle slopes, which no steep specialist is trusted on, at any cut-off
        ("butter:order=4,cutoff=11025", "resnet-gentle"),
        ("cheby1:order=4,cutoff=13000", "resnet-gentle"),
    ],
)
def test_the_default_bank_picks_the_specialist_of_each_band_limit(song, tmp_path, spec, expected):
    from audioenh.degradations.chain import DegradationSampler

    limited, _ = DegradationSampler(spec, SR).degrade(song, SR, np.random.default_rng(0))
    src = tmp_path / "in.wav"
    sf.write(src, np.asarray(limited).T, SR, subtype="FLOAT")
    result = CliRunner().invoke(cli, ["enhance", "--analyze", str(src)])
    assert result.exit_code == 0, result.output
    assert "restoring" in result.output and result.output.strip().endswith(f"[bundled model {expected}]")
    if expected == "resnet-16k":  # and enhance uses it
        result = CliRunner().invoke(cli, ["enhance", str(src), "-o", str(tmp_path / "out.flac")])
        assert result.exit_code == 0, result.output
        assert f"with bundled model {expected} (picked from auto)" in result.output
        assert "band ends at 16." in result.output


def test_analyze_names_no_model_for_a_full_band_input(song, tmp_path):
    src = tmp_path / "full.wav"
    sf.write(src, song.T, SR, subtype="FLOAT")
    result = CliRunner().invoke(cli, ["enhance", "--analyze", str(src)])
    assert result.exit_code == 0, result.output
    assert "full band" in result.output and "[" not in result.output
