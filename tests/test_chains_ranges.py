"""Chains (``a+b``) and random ranges (``order=4..12``) in specs, training chunks and the CLI."""

import json

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner
from scipy import signal

from audioenh.cli import cli
from audioenh.data.chunks import TrainingChunks
from audioenh.data.corpus import Song
from audioenh.degradations.chain import DegradationSampler, expand_training_specs
from audioenh.errors import SpecError
from audioenh.plugins import degradations
from audioenh.spec import Range, format_spec, parse_spec

from .conftest import SR, music_like


@pytest.fixture(scope="module")
def song(tmp_path_factory):
    path = tmp_path_factory.mktemp("songs") / "song.wav"
    audio = music_like(3.0, seed=4)
    sf.write(path, (0.5 * audio / np.abs(audio).max()).T, SR, subtype="FLOAT")
    return Song.from_file(path, "train", cache_dir=path.parent / "cache")


def test_range_values_parse_and_round_trip():
    spec = parse_spec("cheby1:order=4..12,cutoff=9000.0..13000.0")
    assert spec.kwargs == {"order": Range(4, 12), "cutoff": Range(9000.0, 13000.0)}
    assert spec.kwargs["order"].integer and not spec.kwargs["cutoff"].integer
    assert parse_spec(format_spec(spec)) == spec
    with pytest.raises(SpecError, match="is empty"):
        parse_spec("cheby1:order=12..4")
    with pytest.raises(SpecError, match="bad range"):
        parse_spec("cheby1:order=4..x")


def test_draws_are_reproducible_inside_the_range_and_cover_integer_ends():
    sampler = DegradationSampler("cheby1:order=4..6,cutoff=9000.0..13000.0")
    draws = [sampler.draw(np.random.default_rng([7, i])) for i in range(60)]
    assert draws == [sampler.draw(np.random.default_rng([7, i])) for i in range(60)]
    specs = [parse_spec(d) for d in draws]
    assert {s.kwargs["order"] for s in specs} == {4, 5, 6}
    assert all(9000 <= s.kwargs["cutoff"] < 13000 for s in specs)
    assert len({s.kwargs["cutoff"] for s in specs}) == 60


def test_chain_chunk_equals_whole_file_chain(song):
    text = "butter:4,cutoff=16000+cheby1:6"
    ds = TrainingChunks([song], [text], chunk=4096, seed=1)
    whole = song.read()
    expected = signal.filtfilt(*signal.cheby1(6, 0.05, 0.5), signal.filtfilt(*signal.butter(4, 16000 / 22050), whole))
    for offset in (0, 30000, whole.shape[1] - 4096):
        degraded, target = ds.chunk_at(0, offset, 0)
        np.testing.assert_array_equal(target, whole[:, offset : offset + 4096])
        np.testing.assert_allclose(degraded, expected[:, offset : offset + 4096], atol=2e-6)
    chain = ds.degradation(0)
    b, c = (degradations().create(s).context_samples(SR) for s in ("butter:4,cutoff=16000", "cheby1:6"))
    assert chain.context == b + c


def test_ranged_chunks_record_their_draw_and_match_it(song):
    ds = TrainingChunks([song], ["cheby1:order=4..12,cutoff=9000..13000"], chunk=4096, seed=3)
    infos = [ds.describe(i) for i in range(6)]
    assert len({i.degradation for i in infos}) == 6 and all(i.degradation.startswith("cheby1:order=") for i in infos)
    assert [ds.describe(i) for i in range(6)] == infos  # reproducible
    info = infos[2]
    drawn = degradations().create(info.degradation)
    expected = drawn(song.read(), SR)[:, info.offset : info.offset + 4096]
    degraded, _ = ds.arrays(2)
    np.testing.assert_allclose(degraded, expected, atol=2e-6)


def test_expand_training_specs():
    assert expand_training_specs(["paper-multi", "butter:6+cheby1:6"])[-1] == "butter:6+cheby1:6"
    assert len(expand_training_specs(["paper-multi"])) == 8
    with pytest.raises(SpecError, match="is a set"):
        expand_training_specs(["paper-multi+butter:6"])
    with pytest.raises(SpecError, match="at or above the Nyquist"):
        expand_training_specs(["butter:6,cutoff=15000..30000"])
    with pytest.raises(SpecError, match="malformed chain"):
        expand_training_specs(["butter:6+"])


def test_degrade_cli_chains_and_seeded_ranges(tmp_path):
    src = tmp_path / "in.wav"
    sf.write(src, (0.4 * music_like(0.5)).T, SR, subtype="FLOAT")
    a, b = tmp_path / "a.wav", tmp_path / "b.wav"
    runner = CliRunner()
    assert (
        runner.invoke(cli, ["degrade", str(src), "-o", str(a), "-d", "butter:4,cutoff=16000+cheby1:6"]).exit_code == 0
    )
    assert (
        runner.invoke(
            cli, ["degrade", str(src), "-o", str(b), "-d", "butter:4,cutoff=16000", "-d", "cheby1:6"]
        ).exit_code
        == 0
    )
    np.testing.assert_array_equal(sf.read(a)[0], sf.read(b)[0])
    outs = []
    for seed in (1, 1, 2):
        out = tmp_path / f"r{len(outs)}.wav"
        result = runner.invoke(
            cli, ["degrade", str(src), "-o", str(out), "-d", "butter:order=2..12", "--seed", str(seed)]
        )
        assert result.exit_code == 0 and "butter:order=" in result.output
        outs.append(sf.read(out)[0])
    np.testing.assert_array_equal(outs[0], outs[1])


def test_train_cli_stores_canonical_chains_and_ranges(tmp_path):
    root = tmp_path / "corpus"
    for split in ("train", "val", "test"):
        (root / split).mkdir(parents=True)
        sf.write(root / split / "s.flac", (0.4 * music_like(1.5, seed=len(split))).T, SR, subtype="PCM_24")
    run = tmp_path / "run"
    result = CliRunner().invoke(
        cli,
        [
            "train",
            "--arch",
            "resnet:preset=tiny",
            "-d",
            "cheby1:order=6..8",
            "-d",
            "butter:6,cutoff=16000+cheby1:6",
            "--data",
            str(root),
            "--output",
            str(run),
            "--iterations",
            "2",
            "--record-every",
            "2",
            "--batch-size",
            "2",
            "--chunk",
            "512",
            "--val-offset",
            "0.2",
            "--val-seconds",
            "0.5",
            "--workers",
            "0",
            "--device",
            "cpu",
            "--quiet",
        ],
    )
    assert result.exit_code == 0, result.output
    config = json.loads((run / "config.json").read_text())
    assert config["degradations"] == ["cheby1:order=6..8", "butter:6,cutoff=16000+cheby1:6"]
