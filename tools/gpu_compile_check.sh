#!/bin/bash
# Does torch.compile pay for the paper U-Net under `--precision auto` on a GPU? Its bf16 step is bound by
# the host queuing kernels (third GPU session: 7.9 ms of GPU time per step against 9-12 ms per step), which
# CUDA graphs (mode reduce-overhead) remove. One device call (about 6-9 minutes on an H200: compiling
# the paper U-Net is slow); docs/performance.md ("torch.compile") gets what it measures.
#
#   run(command="bash tools/gpu_compile_check.sh", carry=[".whl"], timeout_s=600)
# Results in $OUT: compile-MODE.json (tools/compile_speed.py) for each mode, err.txt.
# A dry run on a CPU (tiny model, short timings):
#   GPU_CHECK_DEVICE=cpu OUT=/tmp/compile-check bash tools/gpu_compile_check.sh
set -u
cd "$(dirname "$0")/.." || exit 1
. tools/gpu_env.sh
if [ "$device" != cpu ]; then
    args="--arch unet:preset=paper --batch-size 8 --chunk 8192 --seconds 3 --audio-seconds 10 --rounds 2"
    limit=270
else
    args="--arch unet:preset=tiny --batch-size 2 --chunk 1024 --seconds 0.3 --audio-seconds 1 --rounds 1"
    limit=120
fi
out=${OUT:-/tmp/gpu-compile}
mkdir -p "$out"
for mode in reduce-overhead default; do
    started=$SECONDS
    timeout $limit $py tools/compile_speed.py $args --device "$device" --precision auto --mode $mode \
        --json "$out/compile-$mode.json" >/dev/null 2>>"$out/err.txt"
    echo "compile $mode rc=$? $((SECONDS - started)) s"
done
