#!/usr/bin/env bash
# Set up a virtual environment (.venv) with the CPU build of PyTorch and audioenh,
# then run the main job or the tests. Safe to run again: set-up is skipped when done.
#
#   ./quickstart.sh report   # the main job
#   ./quickstart.sh test     # the test suite
set -euo pipefail
cd "$(dirname "$0")"

what="${1:-}"
case "$what" in
  report|test) ;;
  *) echo "usage: $0 report|test" >&2; exit 2 ;;
esac

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
. .venv/bin/activate
if ! python -c "import audioenh, audioenh_codecs, torch, pytest, pytest_benchmark, selenium" 2>/dev/null; then
  python -m pip install --quiet --upgrade pip
  # The pinned CPU build first, so that nothing pulls the multi-GB CUDA build.
  python -m pip install --quiet "torch==2.13.0"
  python -m pip install --quiet -e ".[test]"
  # The project's own codecs plugin: the report's generalization matrix covers MP3, Vorbis and Opus.
  python -m pip install --quiet -e plugins/audioenh-codecs
fi

if [ "$what" = test ]; then
  AUDIOENH_NO_PLUGINS=1 python -m pytest "${@:2}"
else
  # The main job: the paper's generalization experiments on the built-in corpus.
  audioenh generalization-report --preset quick --output report "${@:2}"
  echo "open report/report.html"
fi
