// Bundles a Node entry point (CLI, bench) with esbuild, loading `*.wgsl?raw` imports as text the
// way Vite does for the browser build, so Node runs exactly the engine code the app runs.
import { build } from 'esbuild';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const rawText = {
  name: 'raw-text',
  setup(b) {
    b.onResolve({ filter: /\?raw$/ }, (args) => ({
      path: path.resolve(args.resolveDir, args.path.slice(0, -'?raw'.length)),
      namespace: 'raw-text',
    }));
    b.onLoad({ filter: /.*/, namespace: 'raw-text' }, async (args) => ({
      contents: await readFile(args.path, 'utf8'),
      loader: 'text',
    }));
  },
};

/** Bundles `entry` (relative to the repo root) to `outfile` and returns its absolute path. */
export async function bundleNode(entry, outfile, plugins = []) {
  const out = path.resolve(root, outfile);
  await build({
    entryPoints: [path.resolve(root, entry)],
    outfile: out,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: 'inline',
    external: ['webgpu', 'node-llama-cpp'],
    plugins: [rawText, ...plugins],
    logLevel: 'error',
    // esbuild's ESM output for Node needs `require` for the few CJS dependencies it inlines.
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  });
  return out;
}
