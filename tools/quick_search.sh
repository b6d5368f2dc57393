#!/usr/bin/env bash
# Search for the smallest training budget that shows the paper's finding (used to size the
# report's `quick` preset). Trains ResNet baseline (cheby1:6) and DA (paper-multi) pairs for
# several model/chunk/lr settings in parallel and merges their metrics.jsonl into one JSON.
#
#   tools/quick_search.sh OUTDIR ITERATIONS DEVICE
set -uo pipefail
out=${1:-/tmp/search}; iters=${2:-6000}; device=${3:-cuda}; limit=${4:-500}
mkdir -p "$out" /tmp/runs
export AUDIOENH_NO_PLUGINS=1 OMP_NUM_THREADS=1 PYTHONUNBUFFERED=1
python3 -c "from audioenh.data.builtin import ensure_builtin_corpus; ensure_builtin_corpus()" 2>/dev/null
run() {
  local name=$1; shift
  timeout "$limit" python3 -m audioenh train --data builtin --output /tmp/runs/$name --iterations "$iters" \
    --record-every 250 --val-offset 1 --val-seconds 4 --device "$device" --quiet "$@" >/tmp/runs/$name.log 2>&1
}
for da in 0 1; do
  if [ $da = 1 ]; then d=paper-multi; s=da; w=3; else d=cheby1:6; s=base; w=2; fi
  run A-$s --arch resnet:width=32,blocks=6,kernel=7 -d $d --chunk 2048 --batch-size 16 --lr 2e-3 --workers $w &
  run B-$s --arch resnet:width=16,blocks=6,kernel=7 -d $d --chunk 2048 --batch-size 16 --lr 3e-3 --workers $w &
  run C-$s --arch resnet:width=32,blocks=6,kernel=7 -d $d --chunk 1024 --batch-size 16 --lr 2e-3 --workers $w &
  run D-$s --arch resnet:width=24,blocks=5,kernel=9 -d $d --chunk 1024 --batch-size 16 --lr 3e-3 --workers $w &
done
wait
python3 - "$out" <<'PY'
import json, pathlib, sys
runs = {}
for d in sorted(pathlib.Path("/tmp/runs").iterdir()):
    if d.is_dir() and (d / "metrics.jsonl").exists():
        runs[d.name] = [json.loads(l) for l in (d / "metrics.jsonl").read_text().splitlines() if l.strip()]
pathlib.Path(sys.argv[1], "search.json").write_text(json.dumps(runs))
for name, recs in runs.items():
    line = " ".join(f"{r['iteration']}:{r['val']['seen']['output']-r['val']['seen']['input']:+.2f}/"
                    f"{r['val']['butter:6']['output']-r['val']['butter:6']['input']:+.2f}" for r in recs[::2])
    print(name, line)
PY
tail -3 /tmp/runs/*.log | tail -40
