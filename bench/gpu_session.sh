#!/usr/bin/env bash
# One run on a GPU machine that reaches no network (the device machine this
# project is lent by chance): build the kernels in place, run the CUDA tests
# on the device, then the cuda benchmark. Everything lands under $OUT (the
# device tool's output folder, or /tmp/fastmlp-gpu). About 4-5 minutes on an
# H200: build ~1 min, tests ~1 min (kernels compile on first launch), bench
# ~2.5 min (its own estimate, fastmlp/_bench/gpu.py).
#
#     bash bench/gpu_session.sh
#
# It needs, on that machine: a Python with numpy, scipy, scikit-learn >= 1.6,
# numba, numba-cuda, cuda-pathfinder and cuBLAS (its image has them), Cython
# and setuptools to build; PyTorch for the baseline rows.
set -u
OUT=${OUT:-/tmp/fastmlp-gpu}
mkdir -p "$OUT"
PY=${PYTHON:-python3}
export NUMBA_ENABLE_CUDASIM=0   # the device, not the simulator (tests/conftest.py)

{
    date -u
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>&1
    "$PY" - <<'PYEOF'
import importlib
for name in ("numpy", "scipy", "sklearn", "numba", "numba_cuda", "torch", "Cython"):
    try:
        module = importlib.import_module(name)
        print(name, getattr(module, "__version__", "?"))
    except Exception as exc:
        print(name, "missing:", exc)
PYEOF
} > "$OUT/versions.txt" 2>&1
cat "$OUT/versions.txt"

echo "== build"
if ! "$PY" setup.py -q build_ext --inplace > "$OUT/build.log" 2>&1; then
    tail -40 "$OUT/build.log"
    exit 1
fi

echo "== tests/test_cuda.py on the device"
timeout 300 "$PY" -m pytest -q -p no:cacheprovider -rs tests/test_cuda.py \
    > "$OUT/test_cuda.log" 2>&1
echo "pytest exit $?"
tail -15 "$OUT/test_cuda.log"

echo "== python -m fastmlp bench --suite cuda"
timeout 420 "$PY" -m fastmlp bench --suite cuda --json "$OUT/bench-cuda.json" \
    > "$OUT/bench.txt" 2> "$OUT/bench.err"
echo "bench exit $?"
tail -5 "$OUT/bench.err"
cat "$OUT/bench.txt"
