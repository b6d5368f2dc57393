"""The one atomic-write helper and strict JSON."""

import json
import os
import threading

import pytest

from audioenh.fileio import atomic_open, atomic_path, dumps_json, jsonable, write_json, write_text


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_new_file_gets_the_umask_mode_and_no_temp_file_stays(tmp_path, umask_022):
    target = tmp_path / "sub" / "out.txt"  # the parent folder is created
    write_text(target, "hello")
    assert target.read_text() == "hello"
    assert target.stat().st_mode & 0o777 == 0o644
    assert sorted(p.name for p in target.parent.iterdir()) == ["out.txt"]
    os.umask(0o077)
    write_text(target, "again")
    assert target.stat().st_mode & 0o777 == 0o600


def test_an_error_keeps_the_old_file_and_leaves_nothing_behind(tmp_path):
    target = tmp_path / "out.txt"
    write_text(target, "old")
    with pytest.raises(RuntimeError, match="boom"):
        with atomic_open(target) as f:
            f.write("half of the new")
            raise RuntimeError("boom")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_interrupt_cleans_up_too(tmp_path):
    target = tmp_path / "out.bin"
    with pytest.raises(KeyboardInterrupt):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"x" * 10)
            raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_two_writers_of_one_target_never_share_a_temp_name(tmp_path):
    target = tmp_path / "shared.json"
    seen = []
    barrier = threading.Barrier(2)

    def writer(value):
        with atomic_path(target) as tmp:
            seen.append(tmp)
            barrier.wait(timeout=5)  # both temp files exist at once
            tmp.write_text(json.dumps(value))

    threads = [threading.Thread(target=writer, args=(v,)) for v in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(seen)) == 2 and all(p.parent == tmp_path for p in seen)
    assert json.loads(target.read_text()) in (1, 2)
    assert [p.name for p in tmp_path.iterdir()] == ["shared.json"]


def test_directory_replaces_only_an_empty_folder(tmp_path, umask_022):
    target = tmp_path / "corpus"
    target.mkdir()
    with atomic_path(target, directory=True) as tmp:
        (tmp / "a.txt").write_text("a")
    assert (target / "a.txt").read_text() == "a"
    assert target.stat().st_mode & 0o777 == 0o755
    with pytest.raises(OSError):
        with atomic_path(target, directory=True) as tmp:
            (tmp / "b.txt").write_text("b")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus"]  # the failed temp folder is gone


def test_atomic_open_refuses_read_modes(tmp_path):
    with pytest.raises(ValueError, match="writes a new file"):
        with atomic_open(tmp_path / "x", "r"):
            pass


def test_strict_json():
    data = {"snr": float("inf"), "nan": float("nan"), "t": (1, 2.5), "ok": -3.0}
    assert jsonable(data) == {"snr": None, "nan": None, "t": [1, 2.5], "ok": -3.0}
    text = dumps_json(data, indent=None)
    assert text == '{"snr": null, "nan": null, "t": [1, 2.5], "ok": -3.0}'
    with pytest.raises(TypeError):
        dumps_json({"x": object()})


def test_write_json_ends_with_a_newline(tmp_path):
    write_json(tmp_path / "r.json", {"a": float("-inf")})
    assert (tmp_path / "r.json").read_text() == '{\n  "a": null\n}\n'
