#!/bin/bash
# Does torch.compile pay for the paper U-Net under `--precision auto` on a GPU? Its bf16 step is bound by
# the host queuing kernels (third GPU session: 7.9 ms of GPU time per step against 9-12 ms per step), which
# CUDA graphs (mode reduce-overhead) remove. One device call (at most about 9 minutes on an H200:
# compiling the paper U-Net may be slow; each step has a 240-s limit); docs/performance.md
# ("torch.compile") gets what it measures.
#
#   run(command="bash tools/gpu_compile_check.sh", carry=[".whl"], timeout_s=600)
# Results in $OUT: compile-reduce-overhead.json (tools/compile_speed.py), run-off/ and run-reduce-overhead/
# (`audioenh train --compile MODE`: metrics.jsonl's train_its), train.txt, err.txt.
# A dry run on a CPU (tiny model, short timings):
#   GPU_CHECK_DEVICE=cpu OUT=/tmp/compile-check bash tools/gpu_compile_check.sh
set -u
cd "$(dirname "$0")/.." || exit 1
. tools/gpu_env.sh
if [ "$device" != cpu ]; then
    args="--arch unet:preset=paper --batch-size 8 --chunk 8192 --seconds 3 --audio-seconds 10 --rounds 2"
    train="--arch unet:preset=paper --data builtin --workers 14 --iterations 2000 --record-every 1000 --batch-size 8 --chunk 8192"
    limit=240
else
    args="--arch unet:preset=tiny --batch-size 2 --chunk 1024 --seconds 0.3 --audio-seconds 1 --rounds 1"
    train="--arch unet:preset=tiny --data builtin:songs=3,seconds=2 --workers 0 --iterations 6 --record-every 3 --batch-size 2 --chunk 1024"
    limit=120
fi
out=${OUT:-/tmp/gpu-compile}
mkdir -p "$out"
# 1. the bare step and forward pass, eager against compiled with CUDA graphs, alternating
started=$SECONDS
timeout $limit $py tools/compile_speed.py $args --device "$device" --precision auto --mode reduce-overhead \
    --json "$out/compile-reduce-overhead.json" >/dev/null 2>>"$out/err.txt"
echo "compile_speed reduce-overhead rc=$? $((SECONDS - started)) s"
# 2. `audioenh train` end to end, eager and compiled (metrics.jsonl's train_its; the first interval
# includes compiling)
for mode in off reduce-overhead; do
    started=$SECONDS
    timeout $limit $py -m audioenh train $train -d cheby1:6 --device "$device" --compile $mode \
        -o "$out/run-$mode" -q >>"$out/train.txt" 2>>"$out/err.txt"
    echo "train --compile $mode rc=$? $((SECONDS - started)) s"
    rm -rf "$out/run-$mode/checkpoints"
done
