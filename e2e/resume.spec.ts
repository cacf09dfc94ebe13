/**
 * At scale: a 1.07 GB torch `.bin` repo (two shards, written to disk at set-up and served from
 * disk by the fake hub) is reloaded half way through its first download; Load then continues
 * where it stopped, fetching only what was not finished.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { RequestLog } from '../src/loader/testing/fake-hub';
import type { ReferenceConfig } from '../src/model/reference';
import { writeBigTorchRepo } from '../src/model/testing/big-model';
import { expect, test as base } from './fixtures';

const BIG = 'e2e/big-torch';
/** 8 layers of a 2048-wide LLaMA: 1.07e9 bytes of f16 tensors, 0.5 GB each shard. */
const CONFIG: ReferenceConfig = { hiddenSize: 2048, intermediateSize: 5504, numLayers: 8, numHeads: 16, numKvHeads: 16, headDim: 128, rmsNormEps: 1e-6, ropeTheta: 10000, vocabSize: 32000, tieWordEmbeddings: false };

const test = base.extend<object, { bigRepo: { tensorBytes: number } }>({
  bigRepo: [
    async ({ env }, use) => {
      const dir = await mkdtemp(path.join(tmpdir(), 'e2e-big-'));
      const { files, tensorBytes } = await writeBigTorchRepo(dir, CONFIG, 2);
      env.hub.addRepo(BIG, files, { license: 'other' });
      await use({ tensorBytes });
      await rm(dir, { recursive: true, force: true });
    },
    { scope: 'worker' },
  ],
});

/** Weight-file bytes the fake hub's CDN sent for these requests. */
const cdnBytes = (requests: RequestLog[]) => requests.filter((r) => r.path.startsWith('/lfs-cdn/')).reduce((sum, r) => sum + (r.bytes ?? 0), 0);

test('a 1 GB download reloaded half way continues from where it stopped and fetches only the rest', async ({ app, page, env, bigRepo }) => {
  test.setTimeout(420_000);
  expect(bigRepo.tensorBytes).toBeGreaterThan(1e9);
  await app.open([BIG]);
  await app.settings({ contextLength: 512 });
  await expect(page.getByTestId('load-cost')).toHaveAttribute('data-state', 'ready');
  expect(Number(await page.getByTestId('load-cost-download').getAttribute('data-bytes'))).toBeGreaterThan(1e9);

  const started = env.hub.requests.length;
  await page.getByTestId('load-model').click();
  const bar = page.getByTestId('load-progress').getByRole('progressbar');
  await expect(page.getByTestId('load-progress')).toHaveAttribute('data-phase', 'download', { timeout: 60_000 });
  await expect.poll(async () => Number(await bar.getAttribute('aria-valuenow')), { timeout: 180_000, intervals: [250] }).toBeGreaterThanOrEqual(45);
  await page.reload(); // the worker dies mid-download, as with a closed tab or a crash
  const reloaded = env.hub.requests.length;
  const firstBytes = cdnBytes(env.hub.requests.slice(started, reloaded));

  // Before Load: the tab knows an earlier download is kept, and Model management lists it with its size.
  await expect(page.getByTestId('load-cost-partial')).toBeVisible({ timeout: 60_000 });
  await page.getByTestId('open-models').click();
  const partial = page.locator('[data-testid="cached-model"][data-partial="true"]');
  await expect(partial).toContainText(BIG);
  await expect(partial).toContainText('MB / ');
  await app.screenshot('model-management-partial');
  await page.getByTestId('model-manager-close').click();
  await page.getByTestId('load-model').click();
  const resumed = page.getByTestId('load-resumed');
  await expect(resumed).toBeVisible({ timeout: 120_000 });
  const percent = Number(await resumed.getAttribute('data-percent'));
  expect(percent).toBeGreaterThan(30); // what the first try finished, less the buffer it was in
  await expect(resumed).toContainText(`resuming at ${percent}%`);
  await app.screenshot('load-resumed');
  await expect(page.getByTestId('model-status')).toBeVisible({ timeout: 300_000 });
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-from-cache', 'false');

  // The second try fetched only the part not yet finished: far less than the whole.
  const secondBytes = cdnBytes(env.hub.requests.slice(reloaded));
  console.log(`first try ${(firstBytes / 1e6).toFixed(0)} MB, resumed at ${percent}%, second try ${(secondBytes / 1e6).toFixed(0)} MB of ${(bigRepo.tensorBytes / 1e6).toFixed(0)} MB`);
  expect(secondBytes).toBeLessThan(bigRepo.tensorBytes * (1 - percent / 100) + (64 << 20));
  expect(secondBytes).toBeLessThan(bigRepo.tensorBytes * 0.7);

  // Complete now: one entry in Model management, nothing partial left.
  await page.getByTestId('open-models').click();
  await expect(page.getByTestId('cached-model')).toHaveCount(1);
  await expect(page.getByTestId('cached-model')).not.toHaveAttribute('data-partial', 'true');
});
