/**
 * e2e: the built app (dist/) in Debian's headless Chromium with WebGPU on SwiftShader (no GPU
 * needed), the real engine in its worker, tiny models from the local fake hub (fixtures.ts).
 * Playwright cannot download its own browsers here, so it drives /usr/bin/chromium.
 */
import { defineConfig } from '@playwright/test';

export default defineConfig({
  testDir: '.',
  testMatch: '*.spec.ts',
  outputDir: '../test-results',
  // One worker: SwiftShader uses every core, and the tests share the fake hub of the worker.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  timeout: 180_000,
  expect: { timeout: 60_000 },
  reporter: [['list']],
  use: {
    browserName: 'chromium',
    headless: true,
    viewport: { width: 1280, height: 800 },
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      // Checked on Chromium 156: --enable-unsafe-webgpu is what exposes an adapter in headless
      // Linux; SwiftShader is then the (fallback) adapter. The rest keep the browser quiet and offline.
      args: [
        '--no-sandbox',
        '--enable-unsafe-webgpu',
        '--use-webgpu-adapter=swiftshader',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    },
    trace: 'off',
    screenshot: 'only-on-failure',
  },
});
