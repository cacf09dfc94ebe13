/**
 * The browser's storage misbehaving, as a new user meets it: a quota below what the model needs
 * while the storage estimate still reports gigabytes free (Chromium's
 * Storage.overrideQuotaForOrigin, as a nearly full disk does), and a cached copy cut short behind
 * the app's back.
 */
import type { RequestLog } from '../src/loader/testing/fake-hub';
import { expect, REPOS, test } from './fixtures';

/** Weight-file bytes the fake hub's CDN sent for these requests. */
const cdnBytes = (requests: RequestLog[]) => requests.filter((r) => r.path.startsWith('/lfs-cdn/')).reduce((sum, r) => sum + (r.bytes ?? 0), 0);

test('a quota below the model: it runs uncached, the message says the browser refused (no contradicting figures), and the cost panel promises no room', async ({ app, page, env }) => {
  const cdp = await page.context().newCDPSession(page);
  // 1 MB for this origin; the tiny model's entry takes 8 MB. estimate() goes on reporting 10 GiB.
  await cdp.send('Storage.overrideQuotaForOrigin', { origin: new URL(env.site).origin, quotaSize: 1_000_000 });
  await app.open([REPOS.random]);
  // Before any write the estimate is all the app knows.
  await expect(page.getByTestId('load-cost-storage')).toHaveAttribute('data-fits', 'true');

  await app.load();
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-from-cache', 'false');
  const error = page.getByTestId('error');
  await expect(error).toHaveAttribute('data-code', 'quota-exceeded');
  const message = page.getByTestId('error-message');
  await expect(message).toContainText("This site's browser storage refused to store more of e2e/tiny-random");
  await expect(message).toContainText('so the model runs without being cached');
  // What helps: free space, delete cached models, persistent storage (in the message and the steps).
  await expect(message).toContainText('free disk space, delete cached models in Model management, or allow persistent storage');
  await expect(error).toContainText('모델 관리에서 쓰지 않는 캐시 모델');
  await expect(error).toContainText('영구 보존');
  // No figure the refused write contradicts ("needs 72 MiB ... only 10.0 GiB is available").
  await expect(error).not.toContainText('is available');
  await expect(error).not.toContainText('남은 공간');
  await expect(error).not.toContainText(/\d GiB|\d GB/);
  await app.screenshot('storage-quota-refused');

  // Unloaded, the tab shows the cost again: no "fits" from the estimate the write contradicted.
  await page.getByTestId('open-models').click();
  await page.getByRole('button', { name: /Unload/ }).click();
  await page.getByTestId('model-manager-close').click();
  const storage = page.getByTestId('load-cost-storage');
  await expect(storage).toHaveAttribute('data-fits', 'false');
  await expect(storage).toHaveAttribute('data-refused', 'true');
  await expect(storage).not.toContainText('fits');
  await expect(storage).not.toContainText('10.0 GB');
  await expect(page.getByTestId('load-cost-refused')).toContainText('refused to store more');
  await expect(page.getByTestId('load-cost-no-room')).toHaveCount(0);
  await app.screenshot('storage-quota-cost');
});

test('a cached copy cut to half: the progress and the status say it was damaged and is downloaded again', async ({ app, page, env }) => {
  await app.open([REPOS.randomB]);
  await app.load();
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-from-cache', 'false');
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-cache-damaged', 'false');

  // Behind the app's back: every cached weights.bin loses its second half.
  const cut = await page.evaluate(async () => {
    const root = await navigator.storage.getDirectory();
    const models = await root.getDirectoryHandle('models');
    const sizes: number[] = [];
    for await (const [, handle] of models as unknown as AsyncIterable<[string, FileSystemHandle]>) {
      if (handle.kind !== 'directory') continue;
      const file = await (handle as FileSystemDirectoryHandle).getFileHandle('weights.bin');
      const size = (await file.getFile()).size;
      const writable = await file.createWritable({ keepExistingData: true });
      await writable.truncate(Math.floor(size / 2));
      await writable.close();
      sizes.push(size);
    }
    return sizes;
  });
  expect(cut).toHaveLength(1);

  await page.reload();
  // The download waits a few seconds once, so the progress can be read while it runs.
  env.hub.faults.add(env.cdnPath(REPOS.randomB, 'model.safetensors'), { kind: 'stall', ms: 4000 }, 1, { minBytes: 100_000 });
  const before = env.hub.requests.length;
  await page.getByTestId('load-model').click();
  const notice = page.getByTestId('load-cache-damaged');
  await expect(notice).toContainText('The cached copy was damaged and is being downloaded again');
  await expect(notice).toContainText(`weights.bin holds ${(cut[0] / 2 / 2 ** 20).toFixed(1)} MiB of the ${(cut[0] / 2 ** 20).toFixed(1)} MiB its manifest lists`);
  await app.screenshot('storage-damaged-progress');

  const status = page.getByTestId('model-status');
  await expect(status).toBeVisible({ timeout: 120_000 });
  await expect(status).toHaveAttribute('data-from-cache', 'false');
  await expect(status).toHaveAttribute('data-cache-damaged', 'true');
  await expect(status).toContainText('downloaded again, the cached copy was damaged');
  await expect(page.getByTestId('cache-damaged')).toContainText('the cached copy was damaged and was downloaded again');
  expect(cdnBytes(env.hub.requests.slice(before))).toBeGreaterThan(cut[0] / 4);
  await app.screenshot('storage-damaged-status');

  // Whole again: the next load reads the new copy and has nothing to report.
  await page.reload();
  await app.load();
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-from-cache', 'true');
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-cache-damaged', 'false');
});
