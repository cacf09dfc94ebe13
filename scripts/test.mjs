// `npm test`: everything CI runs, in order. Finds or installs what the GPU tests need
// (Debian's Chromium ships SwiftShader, a software Vulkan driver; Dawn needs the Vulkan loader),
// and fails loudly rather than skipping when no WebGPU adapter can be had.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const args = new Set(process.argv.slice(2));
const only = args.has('--unit') ? 'unit' : args.has('--e2e') ? 'e2e' : 'all';

function run(command, commandArgs, options = {}) {
  console.log(`\n$ ${command} ${commandArgs.join(' ')}`);
  const result = spawnSync(command, commandArgs, { stdio: 'inherit', ...options });
  if (result.status !== 0) {
    console.error(`\nFAILED (${result.status ?? result.signal}): ${command} ${commandArgs.join(' ')}`);
    process.exit(result.status || 1);
  }
}

const swiftshaderIcd = '/usr/lib/chromium/vk_swiftshader_icd.json';
const hasVulkanLoader = () =>
  spawnSync('sh', ['-c', 'ldconfig -p | grep -q "libvulkan.so.1 "']).status === 0;

function ensureSystemPackages() {
  const missing = [];
  if (!existsSync('/usr/bin/chromium') || !existsSync(swiftshaderIcd)) missing.push('chromium');
  if (!hasVulkanLoader()) missing.push('libvulkan1');
  // Hangul glyphs for the e2e screenshots (the tests pass without; the pictures would show boxes).
  if (!existsSync('/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc')) missing.push('fonts-noto-cjk');
  if (missing.length === 0) return;
  const isRoot = process.getuid?.() === 0;
  if (!isRoot || !existsSync('/usr/bin/apt-get')) {
    console.error(`The GPU tests need Debian packages: ${missing.join(' ')}. Install them with\n  sudo apt-get update && sudo apt-get install -y ${missing.join(' ')}`);
    process.exit(1);
  }
  run('apt-get', ['update', '-qq']);
  run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], {
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}

ensureSystemPackages();
const env = { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' };

if (only !== 'e2e') {
  run('npx', ['tsc', '--noEmit', '-p', 'tsconfig.json'], { env });
  run('npx', ['vitest', 'run'], { env });
}
if (only !== 'unit' && existsSync('e2e/playwright.config.ts')) {
  run('npx', ['vite', 'build'], { env });
  run('npx', ['playwright', 'test', '-c', 'e2e/playwright.config.ts'], { env });
}
console.log('\nAll tests passed.');
