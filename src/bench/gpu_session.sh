#!/usr/bin/env bash
# The cuda engine's GPU-machine session, inside the device kit (see ../shared/device/README.md):
#   bash .device/run.sh bash src/bench/gpu_session.sh [check] [figures]   (default: both)
# check:   deno task dev gpu-check (cuda against onnx/wasm, repeatability)            ≤ 4 min
# figures: workload W on cuda fp32 and tf32 with the 500-iteration renders, webgpu's step and
#          20-iteration render at 512², and PyTorch's anchor in the same run        ≤ 9.5 min
# Device time is scarce (15 min a session, start included): run `check` alone first.
# Each part has its own timeout so that a hang costs one part; outputs also go to $OUT.
set -u
out=${OUT:-/tmp/out}
mkdir -p "$out"
run() { # name seconds command...
  local name=$1 limit=$2
  shift 2
  echo "== $name (timeout ${limit}s)"
  timeout "$limit" "$@" 2>&1 | tee "$out/$name.txt"
}
parts=${*:-check figures}
if [[ " $parts " == *" check "* ]]; then
  run gpu-check 240 deno task dev gpu-check
fi
if [[ " $parts " == *" figures "* ]]; then
  for precision in fp32 tf32; do
    run "bench-cuda-$precision" 150 \
      deno task bench --engine "cuda-$precision" --sizes 256,512,1024 --iterations 500 --steps 10
  done
  run bench-webgpu 120 deno task bench --engine webgpu --sizes 512 --iterations 20 --steps 3
  run torch-anchor 150 python3 .device/torch_gpu_anchor.py 256,512,1024 10 500
fi
