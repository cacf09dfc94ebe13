#!/usr/bin/env bash
# Prepares .gpu/ for scripts/gpu-bench.sh, which runs on a lent GPU machine (x86-64, no Node, no
# npm, no network). Run it here, in the project root, after `npm install`:
#
#   bash scripts/gpu-pack.sh
#
# .gpu/ then holds what /work/shared/device/pack.sh packs (Node, the Vulkan loader,
# node_modules/webgpu, enter.sh), the CLI bundled with esbuild (cli.mjs, run by cli-run.mjs),
# the correctness checks bundled with the test files they run (check.mjs, scripts/gpu-check),
# the commit it was built from, and node-llama-cpp with its prebuilt Vulkan binaries for
# `bench --native` (about 12 MB compressed). Then run the device tool with carry [".gpu"] and
# command "bash scripts/gpu-bench.sh" (see BENCHMARKS.md).
set -euo pipefail
cd "$(dirname "$0")/.."
pack=$(realpath "${DEVICE_PACK:-../shared/device/pack.sh}")
if [ -d .git ]; then
  bash "$pack"
else
  # A git worktree (.git is a file) breaks pack.sh, which appends to .git/info/exclude: pack in a
  # throwaway local clone that sees the same node_modules, and keep its .gpu/.
  clone=$(mktemp -d)
  git clone -q --local --no-checkout . "$clone/repo"
  ln -s "$PWD/node_modules" "$clone/repo/node_modules"
  (cd "$clone/repo" && bash "$pack")
  rm -rf .gpu && mv "$clone/repo/.gpu" .gpu && rm -rf "$clone"
fi
# The NVIDIA Vulkan ICD (libGLX_nvidia.so.0) needs glvnd's dispatch libraries, which a bare
# device machine may lack ("Could not get 'vkCreateInstance' via 'vk_icdGetInstanceProcAddr'",
# seen on an H200): enter.sh unpacks every .gpu/*.deb, so they travel beside libvulkan1.
o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64-lists'
(cd .gpu && apt-get $o download -qq libglvnd0 libegl1 libgl1 libglx0 libopengl0 libgles2 2> /dev/null)
node --input-type=module -e "const { bundleNode } = await import('./scripts/bundle-node.mjs'); await bundleNode('src/cli/main.ts', '.gpu/cli.mjs');"
cat > .gpu/cli-run.mjs <<'EOF'
// `node .gpu/cli-run.mjs <command> ...`: the bundled CLI, as scripts/cli.mjs runs it.
import { main } from './cli.mjs';
const code = await main(process.argv.slice(2));
process.stdout.write('', () => process.exit(code));
EOF
node --input-type=module -e "const { bundleGpuCheck } = await import('./scripts/gpu-check/build.mjs'); await bundleGpuCheck('.gpu/check.mjs');"
git rev-parse --short HEAD > .gpu/commit

# llama.cpp for the native comparison. The llama.cpp sources node-llama-cpp carries for
# building (gitRelease.bundle, 34 MB) are left out: the prebuilt binaries are what runs.
version=3.22.1
tmp=$(mktemp -d)
if (cd "$tmp" && echo '{"private": true}' > package.json \
  && npm install --ignore-scripts --no-audit --no-fund --omit=optional "node-llama-cpp@$version" "@node-llama-cpp/linux-x64-vulkan@$version" > install.log 2>&1); then
  tar -C "$tmp" -cJf .gpu/node-llama-cpp.tar.xz --exclude='node_modules/node-llama-cpp/llama/gitRelease.bundle' --exclude='node_modules/.package-lock.json' node_modules
else
  echo "node-llama-cpp could not be installed (see $tmp/install.log): the GPU run will report the native comparison as not run" >&2
fi
rm -rf "$tmp"
du -sh .gpu
