"""tools/build_real_set.py: the MIDI it composes (always), and a tiny set rendered with fluidsynth
(skipped when fluidsynth or a SoundFont is missing: apt-get install fluidsynth fluid-soundfont-gm)."""

from __future__ import annotations

import json
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from .conftest import tool_module


@pytest.fixture(scope="module")
def tool():
    with tool_module("build_real_set") as module:
        yield module


def parse_smf(data: bytes) -> list[tuple[int, bytes]]:
    """(absolute tick, event bytes) of a format-0 Standard MIDI File, checking its structure."""
    assert data[:4] == b"MThd"
    length, fmt, ntracks, _ = struct.unpack(">IHHH", data[4:14])
    assert (length, fmt, ntracks) == (6, 0, 1)
    assert data[14:18] == b"MTrk"
    (size,) = struct.unpack(">I", data[18:22])
    track = data[22:]
    assert len(track) == size
    pos, tick, events = 0, 0, []
    while pos < len(track):
        delta = 0
        while True:
            byte = track[pos]
            pos += 1
            delta = (delta << 7) | (byte & 0x7F)
            if byte < 0x80:
                break
        tick += delta
        status = track[pos]
        if status == 0xFF:
            n = track[pos + 2]
            event, pos = track[pos : pos + 3 + n], pos + 3 + n
        else:
            n = 2 if status & 0xF0 in (0x80, 0x90, 0xB0) else 1
            assert status & 0xF0 in (0x80, 0x90, 0xB0, 0xC0), hex(status)
            event, pos = track[pos : pos + 1 + n], pos + 1 + n
        assert all(b < 0x80 for b in event[1:]) or status == 0xFF
        events.append((tick, bytes(event)))
    assert events[-1][1] == b"\xff\x2f\x00", "the track ends with End of Track"
    return events


def test_variable_length_quantities_match_the_midi_spec(tool):
    cases = {
        0: "00",
        0x40: "40",
        0x7F: "7F",
        0x80: "8100",
        0x2000: "C000",
        0x3FFF: "FF7F",
        0x4000: "818000",
        0x100000: "C08000",
        0x1FFFFF: "FFFF7F",
        0x200000: "81808000",
        0x0FFFFFFF: "FFFFFF7F",
    }
    for value, hexed in cases.items():
        assert tool._vlq(value) == bytes.fromhex(hexed)


def test_composition_is_deterministic_in_the_seed(tool):
    song, a = tool.compose(0, seed=0, seconds=5)
    assert tool.compose(0, seed=0, seconds=5)[1] == a
    assert tool.compose(0, seed=1, seconds=5)[1] != a
    assert tool.compose(1, seed=0, seconds=5)[1] != a
    assert song.style == "rock" and song.bars >= 5 * song.bpm / 240


@pytest.mark.parametrize("index", range(6))
def test_every_style_is_well_formed_midi_with_a_drum_kit_and_cymbals(tool, index):
    song, data = tool.compose(index, seed=3, seconds=8)
    events = parse_smf(data)
    ons = [(t, e[0] & 0x0F, e[1]) for t, e in events if e[0] & 0xF0 == 0x90]
    offs = [(e[0] & 0x0F, e[1]) for _, e in events if e[0] & 0xF0 == 0x80]
    assert len(ons) == len(offs) > 50
    assert sorted((c, p) for _, c, p in ons) == sorted(offs), "every note is ended"
    drums = {p for _, c, p in ons if c == 9}  # MIDI channel 10
    assert drums & {42, 44, 46, 49, 51, 52, 53, 54, 55, 57, 69, 70, 81}, f"{song.style}: no cymbal or shaker"
    melodic = {c for _, c, _ in ons if c != 9}
    assert len(melodic) >= 3, f"{song.style}: {melodic}"
    programs = {e[0] & 0x0F: e[1] for _, e in events if e[0] & 0xF0 == 0xC0}
    assert set(programs) >= melodic | {9}
    tpb = struct.unpack(">H", data[12:14])[0]
    assert max(t for t, _, _ in ons) / tpb * 60 / song.bpm >= 8, "the song lasts at least the length asked"
    assert len({song.style for song, _ in (tool.compose(i, 0, 4) for i in range(6))}) == 6


def _renderable(tool) -> list[str]:
    if shutil.which("fluidsynth") is None:
        pytest.skip("fluidsynth is not installed (apt-get install fluidsynth)")
    fonts = tool.default_soundfonts()
    if not fonts:
        pytest.skip("no SoundFont installed (apt-get install fluid-soundfont-gm)")
    return fonts


def test_tiny_set_is_full_band_flac_at_the_stated_length_and_peak(tool, tmp_path):
    fonts = _renderable(tool)
    out = tmp_path / "real"
    assert tool.main(["--output", str(out), "--songs", "1", "--seconds", "3"]) == 0
    files = sorted((out / "test").glob("*.flac"))
    assert [f.name for f in files] == [f"01-rock-{Path(fonts[0]).stem}.flac"]
    info = sf.info(str(files[0]))
    assert (info.format, info.samplerate, info.channels, info.frames) == ("FLAC", 44100, 2, 3 * 44100)
    audio, rate = sf.read(str(files[0]), dtype="float64", always_2d=True)
    peak_db = 20 * np.log10(np.max(np.abs(audio)))
    assert abs(peak_db - tool.PEAK_DBFS) < 0.01, peak_db
    assert np.sqrt(np.mean(audio**2)) > 10 ** (-35 / 20), "music, not near-silence"

    from audioenh.analysis.bandwidth import band_edges

    edges = band_edges(audio.T, rate)
    assert edges.edge >= 15000, edges

    manifest = json.loads((out / "manifest.json").read_text())
    (entry,) = manifest["files"]
    assert entry["file"] == f"test/{files[0].name}" and entry["soundfont"] == Path(fonts[0]).name
    assert entry["seconds"] == 3 and entry["frames"] == 3 * 44100
    assert abs(entry["band_edge_hz"] - edges.edge) < 1
    readme = (out / "README.md").read_text()
    assert "tools/build_real_set.py --output" in readme and "--songs 1 --seconds 3" in readme
    assert "MIT" in readme and "fluidsynth" in readme.lower()

    from audioenh.data.corpus import resolve_corpus

    corpus = resolve_corpus([str(out)])
    assert (len(corpus.train), len(corpus.val), len(corpus.test)) == (0, 0, 1)
    assert corpus.test[0].frames_at_rate == 3 * 44100
