# Sourced by the tools/gpu_*_check.sh scripts: sets `device` (GPU_CHECK_DEVICE, default cuda) and `py`,
# the Python to run. On the device machine its python3 (which lacks soundfile and soxr) gets the cp312
# wheels carried in .whl/ and this checkout's src/ on PYTHONPATH; a dry run on a CPU
# (GPU_CHECK_DEVICE=cpu) uses this checkout's .venv (or PYTHON).
device=${GPU_CHECK_DEVICE:-cuda}
if [ "$device" != cpu ]; then
    python3 -m pip install -q --no-index --no-deps --target /tmp/site .whl/*.whl || exit 1
    export PYTHONPATH=/tmp/site:$PWD/src
    py=python3
else
    py=${PYTHON:-.venv/bin/python}
fi
