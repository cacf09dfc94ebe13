/**
 * Shipping: the built app copied under a sub-path of a plain static server (the README's Deploy
 * section), offline after the first visit, and a new build replacing the old shell.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from '@playwright/test';
import { build } from 'vite';
import { DEFAULT_SCRIPTS } from '../src/model/scripted-model';
import { REPO_ROOT } from '../src/model/tiny-model-node';
import { precacheEntries } from '../src/pwa/precache-plugin';
import { expect, REPOS, test } from './fixtures';
import { serveStatic } from './static-server';

const DIST = path.join(REPO_ROOT, 'dist');
const KOREAN = DEFAULT_SCRIPTS[2];

/** Every URL in the page's Cache Storage, all caches together. */
function cachedUrls(page: Page): Promise<string[]> {
  return page.evaluate(async () => {
    const urls: string[] = [];
    for (const name of await caches.keys()) for (const request of await (await caches.open(name)).keys()) urls.push(request.url);
    return urls.sort();
  });
}

/** Waits until the service worker is active: its install (the precache) has finished. */
async function shellCached(page: Page): Promise<void> {
  const state = () => page.evaluate(async () => (await navigator.serviceWorker.getRegistration())?.active?.state ?? 'no active service worker');
  await expect.poll(state, { timeout: 30_000 }).toBe('activated');
}

test('from a sub-path of a plain static server: answers, then opens, loads from the cache and answers with the network off', async ({ app, page, context, env }) => {
  const site = await serveStatic(DIST, '/kv/');
  try {
    const failed: string[] = [];
    page.on('response', (response) => {
      if (response.url().startsWith(site.url) && response.status() >= 400) failed.push(`${response.status()} ${response.url()}`);
    });
    await app.open([REPOS.scripted], `${site.url}/kv`);
    await app.load();
    await expect(page.getByTestId('model-status')).toHaveAttribute('data-from-cache', 'false');
    await app.send(KOREAN.prompt);
    await app.answer(0);
    await expect(page.getByTestId('message-assistant').first()).toHaveAttribute('data-raw', KOREAN.answer);
    await shellCached(page);
    expect(failed, 'requests that failed under /kv/').toEqual([]);
    // The app says it now works offline, and links its license.
    await page.getByTestId('open-settings').click();
    await expect(page.getByTestId('offline-status')).toHaveAttribute('data-state', 'ready');
    const license = await page.request.get(new URL((await page.getByTestId('license-link').getAttribute('href'))!, page.url()).href);
    expect(await license.text()).toContain('MIT License');
    await page.getByTestId('settings-close').click();
    // Installable from here: the manifest and every icon it names load from the sub-path.
    const manifestUrl = new URL((await page.locator('link[rel="manifest"]').getAttribute('href'))!, page.url());
    const manifest = (await (await page.request.get(manifestUrl.href)).json()) as { start_url: string; icons: { src: string; type: string }[] };
    expect(new URL(manifest.start_url, manifestUrl).href).toBe(`${site.url}/kv/`);
    for (const icon of manifest.icons) {
      const response = await page.request.get(new URL(icon.src, manifestUrl).href);
      expect(response.headers()['content-type'], icon.src).toBe(icon.type);
    }

    // The network goes away: the browser is offline, the app's server is gone, the hub refuses.
    // (The hub and the closed server also cover what Playwright's offline mode does not reach:
    // a service worker's own fetches, microsoft/playwright#2311.)
    const served = env.hub.requests.length;
    await context.setOffline(true);
    await site.close();
    env.hub.faults.offline = true;
    await page.reload();
    await expect(page.getByTestId('tab-0')).toBeVisible();
    await page.getByTestId('load-model').click();
    const status = page.getByTestId('model-status');
    await expect(status).toHaveAttribute('data-from-cache', 'true', { timeout: 120_000 });
    await expect(status).toHaveAttribute('data-offline', 'true');
    await expect(status).toContainText('offline: using the cached copy');
    await app.send(KOREAN.prompt);
    const answer = page.getByTestId('message-assistant').nth(1);
    await expect(answer).toHaveAttribute('data-state', 'done', { timeout: 120_000 });
    await expect(answer).toHaveAttribute('data-raw', KOREAN.answer);
    await expect(answer.locator('strong')).toHaveText('스크립트 모델');
    await app.screenshot('offline-chat');
    expect(env.hub.requests.slice(served).filter((request) => request.status !== 0)).toEqual([]);

    // Cache Storage holds the app's own files and nothing else: no hub answers, no model files.
    const urls = await cachedUrls(page);
    const precached = await precacheEntries(DIST);
    expect(urls.map((url) => url.replace(/\?__WB_REVISION__=\w+$/, ''))).toEqual(precached.map((entry) => `${site.url}/kv/${entry.url}`).sort());
  } finally {
    await site.close();
    env.hub.faults.offline = false;
  }
});

test('a new build at the same URL is announced, and Reload replaces the whole old shell', async ({ app, page }) => {
  // The second build: this source again with one visible difference, built the way `npm run build` builds.
  const second = await mkdtemp(path.join(tmpdir(), 'e2e-second-build-'));
  await build({
    root: REPO_ROOT,
    logLevel: 'warn',
    build: { outDir: second, emptyOutDir: true },
    plugins: [{ name: 'e2e-second-build', transformIndexHtml: (html: string) => html.replace('</head>', '<meta name="e2e-build" content="2"></head>') }],
  });
  const site = await serveStatic(DIST, '/kv/');
  try {
    await app.open([REPOS.scripted], `${site.url}/kv`);
    await shellCached(page);
    await page.reload(); // a returning visitor: the page now runs under the service worker
    await expect(page.getByTestId('tab-0')).toBeVisible();
    expect(await page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);

    await site.mount('/kv/', second); // deploy
    await page.reload(); // the browser looks for a new sw.js on every page load
    await expect(page.getByTestId('update-ready')).toBeVisible();
    await expect(page.locator('meta[name="e2e-build"]')).toHaveCount(0); // the old shell, whole, until the user says
    await app.screenshot('update-ready');

    await page.getByTestId('update-reload').click();
    await expect(page.locator('meta[name="e2e-build"]')).toHaveCount(1);
    await expect(page.getByTestId('tab-0')).toBeVisible();
    await expect(page.getByTestId('update-ready')).toBeHidden();
    // Only the new build's files (at their new revisions) are left in Cache Storage.
    const entries = await precacheEntries(second);
    const expected = entries.map((entry) => `${site.url}/kv/${entry.url}?__WB_REVISION__=${entry.revision}`).sort();
    await expect.poll(() => cachedUrls(page)).toEqual(expected);
  } finally {
    await site.close();
    await rm(second, { recursive: true, force: true });
  }
});
