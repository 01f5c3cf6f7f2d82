#!/usr/bin/env bash
# The cuda engine's GPU-machine session: one command, under 540 s, most diagnostic part first.
#   here, once:  bash ../shared/device/pack.sh && deno task dev gpu-check --prepare   (fills .device/)
#   GPU machine: bash .device/run.sh bash src/bench/gpu_session.sh      (run tool: carry [".device"])
#   here, emulated end to end: bash src/bench/gpu_session.sh --emulate[=kernel-oob|library-load|wrong-result]
# Parts: smoke (deno task dev gpu-smoke: every call staged and named), check (gpu-check against the
# references precomputed here), figures (workload W on cuda fp32 and tf32 with 500-iteration
# renders, webgpu at 512², PyTorch's anchor in the same run, a 1024 px render repeated and
# compared byte for byte). Each part gets its own timeout,
# capped by what is left of the budget, so a part that fails or hangs never eats the next
# part's time; each prints its exit code (124: timed out) and duration; outputs go to $OUT.
# Exit status: 1 if any part failed (the engine not starting on a GPU machine included).
set -uo pipefail
budget=${GPU_SESSION_BUDGET:-530}
emulate=""
for arg in "$@"; do
  case $arg in
    --emulate) emulate=1 ;;
    --emulate=*) emulate=${arg#--emulate=} ;;
    *) echo "gpu_session.sh: unknown argument $arg" >&2; exit 2 ;;
  esac
done
out=${OUT:-/tmp/out}
mkdir -p "$out"
start=$SECONDS
failed=0
summary=()

part() { # name seconds command...
  local name=$1 limit=$2
  shift 2
  local left=$((budget - (SECONDS - start)))
  ((limit > left)) && limit=$left
  if ((limit < 10)); then
    echo "== $name: not run, ${left}s of the budget left"
    summary+=("$name: not run (budget)")
    failed=1
    return
  fi
  echo "== $name (timeout ${limit}s, $((SECONDS - start))s into the session)"
  local t0=$SECONDS
  timeout -k 5 "$limit" "$@" 2>&1 | tee "$out/$name.txt"
  local rc=$?
  local line="$name: exit $rc$( ((rc == 124)) && echo ' (timed out)'), $((SECONDS - t0))s"
  echo "== $line"
  summary+=("$line")
  ((rc == 0)) || failed=1
}

if [[ -n $emulate ]]; then
  # The emulated device (the engine's JavaScript restatement) stands in for the GPU: small sizes.
  export STYLEPIPE_CUDA_EMULATE=$emulate
  part smoke 120 deno task dev gpu-smoke
  # The quick references, made here for this run (the full set is the device kit's, --prepare).
  part prepare 120 deno task dev gpu-check --prepare --quick --reference "$out/reference.json"
  part check 240 deno task dev gpu-check --quick --reference "$out/reference.json"
  part bench-cuda-fp32 90 deno task bench --engine cuda-fp32 --sizes 16 --iterations 2 --steps 1 --warmup 0
else
  part smoke 75 deno task dev gpu-smoke
  part check 170 deno task dev gpu-check
  for precision in fp32 tf32; do
    part "bench-cuda-$precision" 85 \
      deno task bench --engine "cuda-$precision" --sizes 256,512,1024 --iterations 500 --steps 10
  done
  part bench-webgpu 40 deno task bench --engine webgpu --sizes 512 --iterations 0 --steps 3
  part torch-anchor 110 python3 .device/torch_gpu_anchor.py 256,512,1024 10 500
  # The determinism target: the same 1024 px, 500-iteration render twice, compared byte
  # for byte (last: it shows nothing the parts above would not have shown first).
  part repeat-1024 60 bash -c 'for i in 1 2; do
      deno task render pipelines/tubingen-starry-conv3.yaml --set size=1024 --set iterations=500 \
        --engine cuda --no-cache --out-dir "$0/repeat-$i" || exit 1
    done
    cmp "$0/repeat-1/tubingen-starry-conv3.png" "$0/repeat-2/tubingen-starry-conv3.png" &&
      echo "repeat-1024: byte-identical"' "$out"
fi
{
  echo "gpu session: $((SECONDS - start))s of ${budget}s"
  printf '%s\n' "${summary[@]}"
} | tee "$out/summary.txt"
exit $failed
