"""torchrun + DistributedDataParallel on the CPU (gloo), two processes: one run folder, distinct data
per process, the same training as one process with the combined batch, resume."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf
import torch

from audioenh.checkpoint import load_checkpoint
from audioenh.data.chunks import _IterationBatches
from audioenh.training.loop import read_records

from .conftest import SR, music_like


def test_each_process_gets_its_own_slice_of_every_iteration():
    one = iter(_IterationBatches(4, start_iteration=3))
    ranks = [iter(_IterationBatches(2, start_iteration=3, rank=r, world_size=2)) for r in (0, 1)]
    for _ in range(5):
        a, b = next(ranks[0]), next(ranks[1])
        assert not set(a) & set(b)
        assert a + b == next(one)  # together: what one process with the combined batch draws


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("ddp-corpus")
    for split, count in (("train", 3), ("val", 1)):
        (root / split).mkdir()
        for i in range(count):
            sf.write(root / split / f"{i}.wav", (0.3 * music_like(1.5, seed=10 + i)).T, SR)
    return root


def _train(corpus, out, *extra, processes=2, resume=False):
    env = dict(os.environ, AUDIOENH_NO_PLUGINS="1", OMP_NUM_THREADS="1")
    launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={processes}"]
    if processes == 1:
        launcher = [sys.executable]
    args = ["-m", "audioenh", "train", "-o", str(out), "-q"]
    if not resume:
        args += ["--arch", "resnet:preset=tiny", "-d", "cheby1:6", "--data", str(corpus), "--chunk", "512"]
        args += ["--record-every", "2", "--val-offset", "0", "--val-seconds", "1", "--seed", "5"]
        args += ["--workers", "0", "--device", "cpu", "--precision", "fp32", "--lr", "1e-3"]
    return subprocess.run([*launcher, *args, *extra], capture_output=True, text=True, env=env, timeout=300)


def test_two_processes_train_like_one_with_the_combined_batch(corpus, tmp_path):
    ddp = _train(corpus, tmp_path / "ddp", "--iterations", "4", "--batch-size", "2")
    assert ddp.returncode == 0, ddp.stderr[-3000:]
    single = _train(corpus, tmp_path / "one", "--iterations", "4", "--batch-size", "4", processes=1)
    assert single.returncode == 0, single.stderr[-3000:]
    config = json.loads((tmp_path / "ddp" / "config.json").read_text())
    assert config["world_size"] == 2 and config["batch_size"] == 2
    a, b = read_records(tmp_path / "ddp"), read_records(tmp_path / "one")
    assert [r["iteration"] for r in a] == [2, 4]  # written once, by process 0
    np.testing.assert_allclose([r["loss"] for r in a], [r["loss"] for r in b], rtol=1e-4)
    wa, wb = load_checkpoint(tmp_path / "ddp")["model"], load_checkpoint(tmp_path / "one")["model"]
    for key in wb:
        torch.testing.assert_close(wa[key], wb[key], rtol=1e-4, atol=1e-6)
    files = ["checkpoints", "config.json", "curves.png", "metrics.jsonl"]  # by process 0 alone
    assert sorted(p.name for p in (tmp_path / "ddp").iterdir()) == files

    more = _train(corpus, tmp_path / "ddp", "--resume", "--iterations", "6", resume=True, processes=2)
    assert more.returncode == 0, more.stderr[-3000:]
    assert [r["iteration"] for r in read_records(tmp_path / "ddp")] == [2, 4, 6]
    alone = _train(corpus, tmp_path / "ddp", "--resume", "--iterations", "8", resume=True, processes=1)
    assert alone.returncode == 1 and "trained by 2 process(es)" in alone.stderr
