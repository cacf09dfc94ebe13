// Bundles scripts/gpu-check/main.mjs with the test files it runs into one file for a machine
// with Node and no node_modules (scripts/gpu-pack.sh writes .gpu/check.mjs with it):
// `vitest` resolves to vitest-shim.mjs, and `gpu-check:test-files` to a module that imports
// each file of TEST_FILES in turn, telling the shim which file registers what.
//   node scripts/gpu-check/build.mjs [--out FILE] [--run]
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { bundleNode } from '../bundle-node.mjs';
import { TEST_FILES } from './test-files.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const shim = path.join(here, 'vitest-shim.mjs');

const testFiles = {
  name: 'gpu-check',
  setup(b) {
    b.onResolve({ filter: /^vitest$/ }, () => ({ path: shim }));
    b.onResolve({ filter: /^gpu-check:test-files$/ }, () => ({ path: 'test-files', namespace: 'gpu-check' }));
    b.onLoad({ filter: /.*/, namespace: 'gpu-check' }, () => {
      const imports = TEST_FILES.map((file) => {
        const absolute = path.join(root, file);
        if (!existsSync(absolute)) throw new Error(`scripts/gpu-check/test-files.mjs names ${file}, which does not exist`);
        return `  setFile(${JSON.stringify(file)});\n  await import(${JSON.stringify(absolute)});`;
      });
      return { contents: `import { setFile } from ${JSON.stringify(shim)};\nexport async function importTestFiles() {\n${imports.join('\n')}\n}\n`, loader: 'js', resolveDir: root };
    });
  },
};

export async function bundleGpuCheck(outfile) {
  return bundleNode('scripts/gpu-check/main.mjs', outfile, [testFiles]);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const outIndex = args.indexOf('--out');
  const out = await bundleGpuCheck(outIndex >= 0 ? args[outIndex + 1] : '.gpu/check.mjs');
  if (args.includes('--run')) {
    const { status } = spawnSync(process.execPath, [out], { cwd: root, stdio: 'inherit' });
    process.exitCode = status ?? 1;
  }
}
