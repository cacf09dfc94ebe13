#!/usr/bin/env bash
# Correctness, then the whole 7B measurement, on a lent GPU machine, in one run that ends inside
# 9 minutes (each step has its own time limit, so one that overruns cannot take the others):
#   check  selftest and the kernel and forward-pass tests against float64 on this adapter
#          (scripts/gpu-check): writes the `Correctness on this adapter:` section first
#   q4     7B q4, the decode variants side by side (bench.ts VARIANTS), llama.cpp beside them (GPU only),
#          and the serve row (the model behind `serve`'s HTTP server, 1 and 4 clients)
#   f16    7B f16, the same variants (those that differ only in the q4 GEMV run once)
#   sweep  the q4 decode GEMVs over workgroup shapes (both kernels), for linear-op.ts defaults
# Each step writes its section of BENCHMARKS.md (sections are keyed by machine and commit, so
# earlier runs stay) and its JSON and log to $OUT as soon as it ends.
#
# Prepare with scripts/gpu-pack.sh, then run through the device tool: carry [".gpu"], command
# "bash scripts/gpu-bench.sh", timeout_s 540. Without a GPU (SwiftShader) the bench takes its
# short plan and no step has a time limit; GPU_BENCH_SHAPE=tiny, GPU_BENCH_STEPS=check,q4,f16,sweep and
# GPU_BENCH_VARIANTS=old,new shorten a check. $OUT gets at most 8 files (the device tool's limit).
set -uo pipefail
cd "$(dirname "$0")/.."
: "${OUT:?set OUT to the folder for the results}"
mkdir -p "$OUT"
start=$(date +%s)
shape=${GPU_BENCH_SHAPE:-7b}
steps=${GPU_BENCH_STEPS:-check,q4,f16,sweep}
variants=${GPU_BENCH_VARIANTS:-old,new,matmul-reg,matmul-sgmat,dot-norms-swiglu}

# The device machine has no Node: enter.sh unpacks it with the Vulkan loader and webgpu.
if ! command -v node > /dev/null || [ -n "${GPU_BENCH_ENTER:-}" ]; then
  # shellcheck disable=SC1091
  source .gpu/enter.sh
fi
[ -d node_modules/node-llama-cpp ] || [ ! -f .gpu/node-llama-cpp.tar.xz ] || tar -xJf .gpu/node-llama-cpp.tar.xz
BENCH_COMMIT=$(cat .gpu/commit 2> /dev/null || git rev-parse --short HEAD)
BENCH_MACHINE=$(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2> /dev/null | head -1)
export BENCH_COMMIT BENCH_MACHINE

cli=(node .gpu/cli-run.mjs)
[ -f .gpu/cli-run.mjs ] || cli=(node scripts/cli.mjs)

# step NAME SECONDS BENCH-ARGS...: on a GPU the step is cut at SECONDS; on SwiftShader never.
step() {
  local name=$1 limit=$2
  shift 2
  [[ ",$steps," == *",$name,"* ]] || return 0
  [ -n "$BENCH_MACHINE" ] || limit=0
  echo "== $name: bench $* ($(($(date +%s) - start)) s in)"
  timeout "$limit" "${cli[@]}" bench --shape "$shape" "$@" > "$OUT/$name.out" 2> "$OUT/$name.log"
  echo "   exit $?, $(($(date +%s) - start)) s in"
  cp BENCHMARKS.md "$OUT/BENCHMARKS.md"
}

# The correctness checks come first, so a GPU that computes wrong numbers says so before any
# speed. check.txt opens with nvidia-smi (the machine), then every check as it finishes.
if [[ ",$steps," == *",check,"* ]]; then
  echo "== check: selftest and kernel tests ($(($(date +%s) - start)) s in)"
  { nvidia-smi 2>&1 || echo "no nvidia-smi: $(uname -a)"; } > "$OUT/check.txt"
  check=(node .gpu/check.mjs)
  [ -f .gpu/check.mjs ] || check=(node scripts/gpu-check/build.mjs --out .gpu/check.mjs --run)
  # 65 s on the H200 at 9afe840; the families' tests since add float64 references over 128k-152k
  # vocabularies on the CPU (275 s on SwiftShader with 2 cores, all of it), so more room, taken from q4 and f16.
  limit=150
  [ -n "$BENCH_MACHINE" ] || limit=0
  timeout "$limit" "${check[@]}" >> "$OUT/check.txt" 2>&1
  echo "   exit $?, $(($(date +%s) - start)) s in"
  cp BENCHMARKS.md "$OUT/BENCHMARKS.md"
fi

# llama.cpp beside us only on a GPU: on a software Vulkan device its numbers say nothing.
native=()
[ -z "$BENCH_MACHINE" ] || native=(--native)
step q4 200 --dtype q4 --variants "$variants" "${native[@]}" --serve --json
step f16 100 --dtype f16 --variants "$variants" --json
step sweep 60 --dtype q4 --sweep --no-write
echo "done in $(($(date +%s) - start)) s"
