import { readFileSync } from 'node:fs';
import { defineConfig, type Plugin } from 'vitest/config';
import react from '@vitejs/plugin-react';
import tailwindcss from '@tailwindcss/vite';
import { precacheServiceWorker } from './src/pwa/precache-plugin.ts';
import { engineLibrary } from './src/api/library-build.ts';

/** The project's LICENSE ships in the build (dist/LICENSE.txt), where the app links to it. */
const shipLicense: Plugin = {
  name: 'ship-license',
  apply: 'build',
  generateBundle() {
    this.emitFile({ type: 'asset', fileName: 'LICENSE.txt', source: readFileSync(new URL('./LICENSE', import.meta.url), 'utf8') });
  },
};

export default defineConfig({
  // Relative URLs everywhere: the same dist/ works from a site's root or any sub-path.
  base: './',
  // The engine library (dist/lib/engine.js) is built after the service worker lists the app's files.
  plugins: [react(), tailwindcss(), shipLicense, precacheServiceWorker('src/pwa/service-worker.ts'), engineLibrary('src/api/library.ts')],
  worker: { format: 'es' },
  build: {
    target: 'es2022',
    sourcemap: true,
    // The licenses of the npm packages the bundle carries, beside the app's own.
    license: { fileName: 'third-party-licenses.txt' },
  },
  test: {
    include: ['src/**/*.test.ts'],
    // Kernel and forward-pass tests share one SwiftShader device per file; two workers keep
    // both cores busy without oversubscribing the machine.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 180_000,
    hookTimeout: 180_000,
  },
});
