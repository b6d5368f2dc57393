#!/bin/bash
# The performance issue's CPU measurements in one command, for a session on a CPU with bf16 hardware
# (AMX-BF16 or AVX-512-BF16: `grep -o -w -E 'amx_bf16|avx512_bf16' /proc/cpuinfo`), where its CPU
# targets are stated (`--precision auto`: bf16 for the U-Net there, fp32 for the ResNet); first run
# on a 2-core AMX Xeon on 2026-11-28 (docs/performance.md, "On a CPU with bf16 hardware (AMX)"):
#
#   1. `audioenh benchmark` of the paper U-Net and ResNet in bf16 with PyTorch's convolutions
#      (`--conv native`), the rule (`--conv auto`: under bf16 the U-Net's long kernels in the FFT form
#      in inference) and the FFT form forced (`--conv fft`), alternating, two rounds;
#   2. `tools/reference_speed.py --precision auto` against the paper's reference code (a checkout in
#      .ref, or REFERENCE=PATH; skipped without one);
#   3. `tools/precision_accuracy.py --precisions fp32,bf16` (ΔSNR of the bundled models in each).
#
#   bash tools/cpu_bf16_check.sh                      # about 25 minutes on 2 cores
#   CHECK_SIZE=tiny OUT=/tmp/bf16-check bash tools/cpu_bf16_check.sh   # a dry run on any CPU (seconds)
#
# Results in $OUT (default /tmp/cpu-bf16-check): one JSON per benchmark run, reference.json,
# accuracy.json, summary.txt (the figures side by side) and err.txt. docs/performance.md ("FFT
# convolutions on the CPU", "Precision") gets what it measures.
set -u
cd "$(dirname "$0")/.." || exit 1
py=${PYTHON:-.venv/bin/python}
out=${OUT:-/tmp/cpu-bf16-check}
reference=${REFERENCE:-.ref}
mkdir -p "$out"
if [ "${CHECK_SIZE:-paper}" = tiny ]; then
    unet="--arch unet:preset=tiny --batch-size 2 --chunk 1024 --seconds 0.3 --audio-seconds 0.5"
    resnet="--arch resnet:preset=tiny --batch-size 1 --chunk 1024 --seconds 0.3 --audio-seconds 0.5"
    rounds=1
else
    unet="--arch unet --batch-size 8 --chunk 8192 --seconds 20 --audio-seconds 2"
    resnet="--arch resnet --batch-size 1 --chunk 8192 --seconds 20 --audio-seconds 1"
    rounds=2
fi
flags=$(grep -o -w -E 'amx_bf16|avx512_bf16' /proc/cpuinfo | sort -u | tr '\n' ' ')
{
    echo "CPU: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; bf16 hardware: ${flags:-none}"
    $py -c 'import torch; print("torch", torch.__version__)'
} >"$out/summary.txt"
for round in $(seq 1 $rounds); do
    for arch in unet resnet; do
        for conv in native auto fft; do
            args=$unet
            [ $arch = resnet ] && args=$resnet
            json="$out/$arch-bf16-$conv-$round.json"
            $py -m audioenh benchmark $args --device cpu --precision bf16 --conv $conv --json \
                >"$json" 2>>"$out/err.txt" || echo "benchmark $arch $conv failed (err.txt)" >>"$out/summary.txt"
        done
    done
done
$py - "$out" >>"$out/summary.txt" <<'EOF'
import json, pathlib, sys
for path in sorted(pathlib.Path(sys.argv[1]).glob("*-bf16-*.json")):
    try:
        d = json.loads(path.read_text())
    except ValueError:
        continue
    print(f"{path.stem}: training step {d['bare_step_its']:.4g} it/s, runtime rate {d['runtime_rate']:.4g}, "
          f"bare forward {d['bare_forward_rate']:.4g} s per s of audio, peak {d['peak_memory_bytes'] / 1e9:.2f} GB")
EOF
if [ "${CHECK_SIZE:-paper}" = tiny ]; then
    echo "dry run: reference_speed and precision_accuracy skipped" >>"$out/summary.txt"
elif [ -d "$reference" ]; then
    $py tools/reference_speed.py --reference "$reference" --precision auto --rounds 1 --json "$out/reference.json" \
        >>"$out/summary.txt" 2>>"$out/err.txt"
else
    echo "no reference checkout at $reference: reference_speed skipped" >>"$out/summary.txt"
fi
if [ "${CHECK_SIZE:-paper}" != tiny ]; then
    # the quick report's fp32-trained checkpoints under --precision auto (Table II within 0.05 dB) are the
    # issue's other CPU check: `audioenh test RUN --precision auto` against `--precision fp32` per run
    $py tools/precision_accuracy.py --device cpu --precisions fp32,bf16 --json "$out/accuracy.json" \
        >>"$out/summary.txt" 2>>"$out/err.txt"
fi
cat "$out/summary.txt"
