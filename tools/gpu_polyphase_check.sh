#!/bin/bash
# The paper U-Net's long kernels as a short-kernel convolution over the input's phases (`--conv
# polyphase`) against the GEMM form `auto` uses on CUDA under bf16, in one short device call (about
# 2 minutes on an H200); docs/performance.md ("On a GPU") has what it measured.
#
#   run(command="bash tools/gpu_polyphase_check.sh", carry=[".whl"], timeout_s=190)
# (.whl: the cp312 wheels of soundfile, soxr, cffi and pycparser, as in tools/gpu_issue13.sh's header).
# Results in $OUT: one `audioenh benchmark --json` object per measurement (poly-cl-fed.json: bare and fed
# step in channels-last memory; gemm.json; poly.json, PyTorch's layout; poly-cl-fp16.json) and
# profile-poly-LAYOUT.txt (tools/profile_step.py).
# A dry run on a CPU (tiny model, short timings):
#   GPU_CHECK_DEVICE=cpu OUT=/tmp/poly-check bash tools/gpu_polyphase_check.sh
set -u
cd "$(dirname "$0")/.." || exit 1
device=${GPU_CHECK_DEVICE:-cuda}
if [ "$device" != cpu ]; then
    python3 -m pip install -q --no-index --no-deps --target /tmp/site .whl/*.whl || exit 1
    export PYTHONPATH=/tmp/site:$PWD/src
    py=python3
else
    py=${PYTHON:-.venv/bin/python}
fi
out=${OUT:-/tmp/gpu-polyphase}
mkdir -p "$out"
if [ "$device" = cpu ]; then
    unet=unet:preset=tiny,kernel=33 precision=fp32 half=fp32
    sizes="--batch-size 2 --chunk 1024 --seconds 0.2 --audio-seconds 0.5"
    fed="--data builtin:songs=3,seconds=2 --workers 0"
    profile="--batch-size 2 --chunk 1024 --steps 1"
else
    unet=unet:preset=paper precision=bf16 half=fp16
    sizes="--batch-size 8 --chunk 8192 --seconds 2 --audio-seconds 10"
    fed="--data builtin --workers 14"
    profile=""
fi

measure() {  # NAME ARGS...: one benchmark into $out/NAME.json
    local name=$1 started=$SECONDS
    shift
    $py -m audioenh benchmark --device "$device" --arch $unet "$@" $sizes --json >"$out/$name.json" 2>>"$out/err.txt"
    echo "$name rc=$? $((SECONDS - started)) s"
}

# channels-last memory: the phases are a view of the input, and cuDNN's bf16 kernels want that layout
measure poly-cl-fed --precision $precision --layout channels-last --conv polyphase -d cheby1:6 $fed
measure gemm --precision $precision --layout pytorch --conv gemm
measure poly --precision $precision --layout pytorch --conv polyphase
measure poly-cl-fp16 --precision $half --layout channels-last --conv polyphase
for layout in channels-last pytorch; do
    started=$SECONDS
    timeout 40 $py tools/profile_step.py --arch $unet --device "$device" --precision $precision --conv polyphase \
        --layout $layout $profile >"$out/profile-poly-$layout.txt" 2>>"$out/err.txt"
    echo "profile $layout rc=$? $((SECONDS - started)) s"
done
