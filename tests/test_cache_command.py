"""``audioenh cache``: sizes of the cache's parts, and clearing what audioenh makes again (never the
downloaded weights unless named)."""

from __future__ import annotations

from click.testing import CliRunner

from audioenh.cli import cli


def fill(root):
    (root / "degraded").mkdir(parents=True)
    (root / "degraded" / "a.npy").write_bytes(b"x" * 3_000_000)
    (root / "degraded" / "b.npy").write_bytes(b"x" * 1_000_000)
    (root / "builtin-v1-s0-n3-t3" / "train").mkdir(parents=True)
    (root / "builtin-v1-s0-n3-t3" / "train" / "song.flac").write_bytes(b"y" * 500_000)
    (root / "responses").mkdir()
    (root / "vggish.pth").write_bytes(b"w" * 200_000)
    (root / "unrelated.txt").write_text("kept")


def test_info_gives_each_part_its_files_and_size(tmp_path, monkeypatch):
    monkeypatch.setenv("AUDIOENH_CACHE", str(tmp_path))
    monkeypatch.setenv("AUDIOENH_DEGRADED_CACHE_GB", "2.5")
    fill(tmp_path)
    result = CliRunner().invoke(cli, ["cache", "info"])
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line.split() for line in result.output.splitlines()[1:]}
    assert result.output.splitlines()[0] == f"cache folder: {tmp_path}"
    assert lines["degraded"][1:4] == ["2", "files", "4.0"] and lines["degraded"][4] == "MB"
    assert lines["corpus"][1:4] == ["1", "files", "0.5"]
    assert lines["weights"][1] == "1" and lines["responses"][1] == "0"
    assert lines["total"][1:3] == ["4.7", "MB"]
    assert result.output.splitlines()[2].endswith("; kept within 2.50 GB ($AUDIOENH_DEGRADED_CACHE_GB)")


def test_clear_removes_only_what_is_named_and_all_keeps_the_weights(tmp_path, monkeypatch):
    monkeypatch.setenv("AUDIOENH_CACHE", str(tmp_path))
    fill(tmp_path)
    result = CliRunner().invoke(cli, ["cache", "clear", "degraded"])
    assert result.exit_code == 0 and result.output.strip() == "cleared degraded: 2 files, 4.0 MB"
    assert not (tmp_path / "degraded").exists() and (tmp_path / "builtin-v1-s0-n3-t3").is_dir()
    result = CliRunner().invoke(cli, ["cache", "clear", "--all"])
    assert result.exit_code == 0, result.output
    assert "cleared corpus: 1 files, 0.5 MB" in result.output and "weights" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["unrelated.txt", "vggish.pth"]
    result = CliRunner().invoke(cli, ["cache", "clear", "weights"])
    assert result.exit_code == 0 and not (tmp_path / "vggish.pth").exists()
    assert (tmp_path / "unrelated.txt").read_text() == "kept"


def test_clear_needs_a_known_name_or_all(tmp_path, monkeypatch):
    monkeypatch.setenv("AUDIOENH_CACHE", str(tmp_path))
    fill(tmp_path)
    result = CliRunner().invoke(cli, ["cache", "clear"])
    assert result.exit_code == 2
    assert "name what to clear (corpus, degraded, resampled, responses, weights)" in result.output
    result = CliRunner().invoke(cli, ["cache", "clear", "models"])
    assert result.exit_code == 2 and "'models' is not one of" in result.output
    assert (tmp_path / "degraded" / "a.npy").is_file()  # nothing removed


def test_a_file_that_cannot_be_deleted_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("AUDIOENH_CACHE", str(tmp_path))
    fill(tmp_path)

    def refuse(path):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("audioenh.commands.cache.shutil.rmtree", refuse)
    result = CliRunner().invoke(cli, ["cache", "clear", "degraded"])
    assert result.exit_code == 1
    assert result.output.strip() == f"Error: cannot delete {tmp_path / 'degraded'}: Permission denied"
