#!/bin/bash
# The performance issue's GPU figures in one device call, most important first (the call may be cut
# short at its 10-minute limit; what was measured is already in $OUT). docs/performance.md says what
# each figure is for.
#
# Here, once, in the repository's root (the device's Python 3.12 lacks soundfile, soxr and cffi):
#   echo /.whl/ >> .git/info/exclude
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#       --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
#       -d .whl soundfile soxr cffi pycparser
# and, for the side-by-side with the paper's reference code (step 4), its source in an ignored folder:
#   echo /.ref/ >> .git/info/exclude
#   git clone https://github.com/serkansulun/deep-music-enhancer .ref   # or: git --git-dir=MIRROR archive HEAD src | tar -x -C .ref
# Then the device tool: run(command="bash tools/gpu_issue13.sh", carry=[".whl", ".ref"], timeout_s=600).
# Results: $OUT/results.jsonl (one `audioenh benchmark --json` object per line, with its label) and
# $OUT/log.txt; step 4 writes $OUT/reference.json and its table to $OUT/reference.md, step 5
# $OUT/compile.jsonl.
#
# A dry run of this script on a CPU (tiny models, short timings):
#   GPU_CHECK_DEVICE=cpu GPU_CHECK_QUICK=1 OUT=/tmp/gpu-check bash tools/gpu_issue13.sh
set -u -o pipefail
cd "$(dirname "$0")/.." || exit 1
if [ "${GPU_CHECK_DEVICE:-cuda}" != cpu ] && [ -d .whl ] && ls .whl/*.whl >/dev/null 2>&1; then  # the device's python
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
    export PYTHONPATH=/tmp/site:$PWD/src
elif ! python3 -c "import audioenh" 2>/dev/null; then
    export PYTHONPATH=$PWD/src
fi
export PYTHONUNBUFFERED=1
out=${OUT:-/tmp/gpu-issue13}
mkdir -p "$out"
results=$out/results.jsonl
log=$out/log.txt
: >"$results"
device=${GPU_CHECK_DEVICE:-cuda}
py=${PYTHON:-python3}

if [ "${GPU_CHECK_QUICK:-0}" = 1 ]; then  # the dry run: tiny models, short timings, a small corpus
    unet=unet:preset=tiny,kernel=33 resnet=resnet:preset=tiny  # kernel 33: --conv gemm has long kernels
    sizes="--batch-size 2 --chunk 1024 --seconds 0.2 --audio-seconds 0.5"
    fed="--data builtin:songs=3,seconds=2 --workers 0"
else  # the paper's models and batch (8 x 2 x 8192), as the issue's tables
    unet=unet:preset=paper resnet=resnet:preset=paper
    sizes="--batch-size 8 --chunk 8192 --seconds 2 --audio-seconds 10"
    fed="--data builtin --workers 14"
fi

{
    date -u
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>/dev/null || echo "no nvidia-smi"
    $py -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"
} >>"$log" 2>&1

measure() {  # LABEL ARGS...: one benchmark, its JSON object appended to results.jsonl with the label
    local label=$1
    shift
    echo "== $label: audioenh benchmark $*" >>"$log"
    local started=$SECONDS
    if $py -m audioenh benchmark --device "$device" "$@" --json >"$out/one.json" 2>>"$log"; then
        $py -c "import json,sys; d=json.loads(open(sys.argv[1]).read()); d['label']=sys.argv[2]; print(json.dumps(d))" \
            "$out/one.json" "$label" >>"$results"
        echo "   done in $((SECONDS - started)) s" >>"$log"
    else
        echo "   FAILED after $((SECONDS - started)) s" >>"$log"
    fi
    rm -f "$out/one.json"
}

# 0. What each precision costs the bundled ResNets' results (tools/precision_accuracy.py): PyTorch's
#    default TF32 convolutions on CUDA, emulated on a CPU, ruined the steep inversions (2026-11-28)
echo "== precision accuracy" >>"$log"
if [ "${GPU_CHECK_QUICK:-0}" = 1 ]; then acc="--seconds 0.5 --pairs resnet-11k-cheby1=cheby1:order=8,cutoff=11025"; else acc=""; fi
if [ "$device" = cpu ]; then precisions=fp32,bf16,tf32-emulated; else precisions=fp32,tf32,tf32-emulated,bf16,fp16; fi
$py tools/precision_accuracy.py --device "$device" --precisions $precisions $acc --json "$out/accuracy.json" \
    >"$out/accuracy.txt" 2>>"$log" || echo "   FAILED" >>"$log"
# 1. The ResNet: IEEE float32 (what fp32 means now), TF32 (PyTorch's default before), 16-bit types
if [ "$device" = cpu ]; then low="fp32 bf16"; else low="tf32 fp16 bf16"; fi
measure "resnet fp32 pytorch" --arch $resnet --precision fp32 --layout pytorch $sizes
for precision in $low; do
    measure "resnet $precision channels-last" --arch $resnet --precision $precision --layout channels-last $sizes
done
# 2. End to end with the real data pipeline (the issue: >= 2x the reference's bare fp32 step); auto
#    is bf16 with the long kernels as GEMMs for the U-Net, fp32 for the ResNet
for degradation in cheby1:6 paper-multi; do
    measure "unet auto fed $degradation" --arch $unet --precision auto -d $degradation $fed $sizes
done
measure "resnet auto fed cheby1:6" --arch $resnet --precision auto -d cheby1:6 $fed $sizes
# 3. The U-Net's other precisions, and where its bf16 step spends its time
if [ "$device" = cpu ]; then low="fp32"; else low="fp32 tf32 fp16"; fi
for precision in $low; do
    measure "unet $precision" --arch $unet --precision $precision $sizes
done
echo "== profile unet auto" >>"$log"
if [ "${GPU_CHECK_QUICK:-0}" = 1 ]; then prof="--batch-size 2 --chunk 1024 --steps 1"; else prof=""; fi
$py tools/profile_step.py --arch $unet --device "$device" --precision auto $prof >"$out/profile-unet.txt" 2>>"$log" \
    || echo "   FAILED" >>"$log"
# 4. The reference's models beside audioenh's, same shapes, alternating (tools/reference_speed.py)
if [ -d "${REFERENCE:-.ref}/src/models" ]; then
    echo "== reference side by side" >>"$log"
    if [ "${GPU_CHECK_QUICK:-0}" = 1 ]; then ref_sizes="--batch-size 1 --chunk 1024 --seconds 0.2 --audio-seconds 0.25 --rounds 1"; else ref_sizes="--rounds 2"; fi
    $py tools/reference_speed.py --reference "${REFERENCE:-.ref}" --device "$device" $ref_sizes \
        --json "$out/reference.json" >"$out/reference.md" 2>>"$log" || echo "   FAILED" >>"$log"
else
    echo "== reference side by side: skipped (no ${REFERENCE:-.ref}/src/models)" >>"$log"
fi
# 5. torch.compile: eager against compiled, fixed shapes (tools/compile_speed.py); last, as compiling takes
#    long (GPU_CHECK_COMPILE=0 skips it)
[ "${GPU_CHECK_COMPILE:-1}" = 0 ] && { echo "finished $(date -u) (compile skipped)" >>"$log"; exit 0; }
if [ "${GPU_CHECK_QUICK:-0}" = 1 ]; then compile_sizes="--batch-size 2 --chunk 1024 --seconds 0.2 --audio-seconds 0.5 --rounds 1"; else compile_sizes="--rounds 2"; fi
for what in "$resnet bf16" "$resnet fp32" "$unet fp32"; do
    set -- $what
    echo "== compile $1 $2" >>"$log"
    $py tools/compile_speed.py --arch "$1" --device "$device" --precision "$2" $compile_sizes \
        --json "$out/compile.jsonl" >>"$log" 2>&1 || echo "   FAILED" >>"$log"
done
echo "finished $(date -u)" >>"$log"
