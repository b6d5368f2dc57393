"""The wheel built from the repository holds the bundled model: installed with --no-deps into a fresh
virtual environment, with the network blocked, it enhances a file with no checkpoint argument."""

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from audioenh.pretrained import BUNDLED, DEFAULT

ROOT = Path(__file__).resolve().parents[1]

# socket connections to the internet fail inside the test environment (its sitecustomize)
BLOCK_NETWORK = """import socket

_connect = socket.socket.connect


def _blocked(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        raise OSError("network access is blocked in this test")
    return _connect(self, address)


socket.socket.connect = _blocked
socket.socket.connect_ex = lambda self, address: _blocked(self, address)
"""


def run(command, **kwargs):
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
    return result


@pytest.mark.slow
def test_the_wheel_holds_the_bundled_model_and_enhances_offline(tmp_path, stereo_wav):
    source = tmp_path / "source"  # built from a copy: the build leaves nothing in the repository
    shutil.copytree(ROOT / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (ROOT / name).exists():
            shutil.copy(ROOT / name, source / name)
    dist = tmp_path / "dist"
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist), str(source)])
    (wheel,) = dist.glob("audioenh-*.whl")
    with zipfile.ZipFile(wheel) as z:
        for model in BUNDLED.values():
            assert f"audioenh/pretrained/{model.filename}" in z.namelist()

    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)])
    python = venv / "bin" / "python"
    site = Path(run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    # the dependencies (torch, numpy, ...) come from this test's environment, installed as they are
    (site / "test-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    (site / "sitecustomize.py").write_text(BLOCK_NETWORK)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PIP_"))}
    env.update(
        AUDIOENH_NO_PLUGINS="1", PIP_NO_INDEX="1", HTTP_PROXY="http://127.0.0.1:9", HTTPS_PROXY="http://127.0.0.1:9"
    )
    run([str(python), "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)], env=env, cwd=tmp_path)

    probe = (
        "import socket, audioenh; print(audioenh.__file__)\n"
        "try:\n socket.create_connection(('1.1.1.1', 80), 2)\nexcept OSError as e:\n print('blocked:', e)"
    )
    lines = run([str(python), "-c", probe], env=env, cwd=tmp_path).stdout.splitlines()
    assert lines[0].startswith(str(venv)), lines  # the installed wheel, not the repository
    assert lines[1].startswith("blocked:"), lines

    out = tmp_path / "out.flac"
    result = run([str(venv / "bin" / "audioenh"), "enhance", str(stereo_wav), "-o", str(out)], env=env, cwd=tmp_path)
    # stereo_wav is full band: nothing to restore, no model of the bank is used
    assert f"with bundled bank {DEFAULT}, no model used" in result.stderr and "full band" in result.stderr
    assert out.stat().st_size > 0
