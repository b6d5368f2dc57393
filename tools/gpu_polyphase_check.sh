#!/bin/bash
# The paper U-Net under `--precision auto` on a GPU (bf16; channels-last memory, long kernels in the
# polyphase form since the first run of this script) against the previous rule (PyTorch's layout, long
# kernels as GEMMs), fed and bare, its profile, and the runtime rate at several blocks per forward pass
# (enhance's --batch-size) for it and a bundled model, in one short device call (about 3 minutes on an
# H200); docs/performance.md ("On a GPU") has what it measured.
#
#   run(command="bash tools/gpu_polyphase_check.sh; cp -r /tmp/gpu-polyphase/* $OUT/", carry=[".whl"], timeout_s=300)
# (.whl: the cp312 wheels of soundfile, soxr, cffi and pycparser, as in tools/gpu_issue13.sh's header).
# Results in $OUT: one `audioenh benchmark --json` object per measurement (auto-fed-cheby1.json,
# auto-fed-multi.json), run-unet/metrics.jsonl (`audioenh train`, end to end; train_its); with
# GPU_CHECK_SWEEP=1 also gemm-pytorch.json, batches-*.jsonl (tools/enhance_batch_speed.py) and
# profile-auto.txt (tools/profile_step.py).
# A dry run on a CPU (tiny model, short timings):
#   GPU_CHECK_DEVICE=cpu OUT=/tmp/poly-check bash tools/gpu_polyphase_check.sh
set -u
cd "$(dirname "$0")/.." || exit 1
. tools/gpu_env.sh
out=${OUT:-/tmp/gpu-polyphase}
mkdir -p "$out"
if [ "$device" = cpu ]; then
    unet=unet:preset=tiny,kernel=33
    sizes="--batch-size 2 --chunk 1024 --seconds 0.2 --audio-seconds 0.5"
    fed="--data builtin:songs=3,seconds=2 --workers 0"
    profile="--batch-size 2 --chunk 1024 --steps 1"
    batches="--batches 4,16 --audio-seconds 1 --rounds 1"
    train="--data builtin:songs=3,seconds=2 --workers 0 --iterations 6 --record-every 3 --batch-size 2 --chunk 1024"
else
    unet=unet:preset=paper
    sizes="--batch-size 8 --chunk 8192 --seconds 2 --audio-seconds 10"
    fed="--data builtin --workers 14"
    profile=""
    batches="--batches 4,8,16,32 --audio-seconds 10 --rounds 2"
    train="--data builtin --workers 14 --iterations 3000 --record-every 1000 --batch-size 8 --chunk 8192"
fi

measure() {  # NAME ARGS...: one benchmark into $out/NAME.json
    local name=$1 started=$SECONDS
    shift
    $py -m audioenh benchmark --device "$device" --arch $unet "$@" $sizes --json >"$out/$name.json" 2>>"$out/err.txt"
    echo "$name rc=$? $((SECONDS - started)) s"
}
timed() {  # NAME COMMAND...: COMMAND's output into $out/NAME
    local name=$1 started=$SECONDS
    shift
    timeout 90 "$@" >"$out/$name" 2>>"$out/err.txt"
    echo "$name rc=$? $((SECONDS - started)) s"
}

measure auto-fed-cheby1 --precision auto -d cheby1:6 $fed
measure auto-fed-multi --precision auto -d paper-multi $fed
# `audioenh train` itself, end to end: metrics.jsonl's train_its (steps per second between records,
# validation and saving excluded; the first interval includes starting the workers)
started=$SECONDS
timeout 150 $py -m audioenh train --arch $unet -d cheby1:6 --device "$device" $train -o "$out/run-unet" -q \
    >>"$out/train.txt" 2>>"$out/err.txt"
echo "train rc=$? $((SECONDS - started)) s"
rm -rf "$out"/run-unet/checkpoints
if [ "${GPU_CHECK_SWEEP:-0}" = 1 ]; then
    measure gemm-pytorch --precision auto --layout pytorch
    timed batches-unet.jsonl $py tools/enhance_batch_speed.py --arch $unet --device "$device" $batches
    timed batches-bundled.jsonl $py tools/enhance_batch_speed.py --model resnet-11k-cheby1 --device "$device" $batches
    timed profile-auto.txt $py tools/profile_step.py --arch $unet --device "$device" --precision auto $profile
fi
