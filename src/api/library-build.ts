/**
 * Build-time (Node): a Vite plugin that builds the engine library (library.ts) beside the app,
 * as `lib/engine.js` in the build folder with its engine worker and chunks in the same folder,
 * so `npm run build` (any `vite build` of this project) writes both. The library is a build of
 * its own (ES module entry, exports kept), sharing no chunk with the app, and runs after the
 * service worker's precache list is written: the app's offline shell does not carry it.
 */
import { copyFile } from 'node:fs/promises';
import path from 'node:path';
import { build, type Plugin, type ResolvedConfig } from 'vite';

export const LIBRARY_DIR = 'lib';

export function engineLibrary(entry: string): Plugin {
  let config: ResolvedConfig;
  return {
    name: 'engine-library',
    apply: 'build',
    configResolved(resolved) {
      config = resolved;
    },
    writeBundle: {
      sequential: true,
      order: 'post',
      async handler() {
        const outDir = path.resolve(config.root, config.build.outDir, LIBRARY_DIR);
        await build({
          configFile: false,
          root: config.root,
          base: './',
          logLevel: 'warn',
          publicDir: false,
          worker: { format: 'es' },
          build: {
            outDir,
            emptyOutDir: true,
            target: config.build.target,
            sourcemap: true,
            // The worker and shared chunks next to engine.js: the folder is the library.
            assetsDir: '',
            rolldownOptions: {
              input: { engine: path.resolve(config.root, entry) },
              preserveEntrySignatures: 'strict',
              output: { entryFileNames: '[name].js', chunkFileNames: '[name]-[hash].js' },
            },
          },
        });
        // The worker's own bundle is not in a license list of the library's build: the app's
        // lists (a superset: the same engine and worker, plus the UI) travel with it instead.
        const appDir = path.resolve(config.root, config.build.outDir);
        for (const file of ['LICENSE.txt', 'third-party-licenses.txt']) await copyFile(path.join(appDir, file), path.join(outDir, file));
        config.logger.info(`${LIBRARY_DIR}/engine.js: the engine library`);
      },
    },
  };
}
