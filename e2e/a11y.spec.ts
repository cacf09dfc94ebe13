/**
 * WCAG 2.1 AA on every main screen: axe-core (e2e/axe.ts) in the light and dark theme and at
 * phone width. The screens are reached with one page and one scripted model; Compare in blind
 * mode, before and after the vote, is checked in keyboard.spec.ts, which loads its two models
 * anyway.
 */
import { DEFAULT_SCRIPTS } from '../src/model/scripted-model';
import { expectAccessible, PHONE } from './axe';
import { expect, REPOS, test } from './fixtures';

const [, CODE, KOREAN] = DEFAULT_SCRIPTS;

test('chat screens pass axe: before Load with its cost, loading, settings, model management, answers, token view, conversation list, load and answer errors', async ({ app, page, env }) => {
  // Tab 1 is a gated repo (the unauthorized error); the custom tab gets a repo that does not exist.
  await app.open([REPOS.scripted, REPOS.gated]);
  await expect(page.getByTestId('load-cost')).toHaveAttribute('data-state', 'ready');
  await expectAccessible(page, 'chat-before-load');

  await page.getByTestId('open-settings').click();
  await expectAccessible(page, 'settings');
  await page.getByTestId('settings-close').click();

  // Loading: the first tensor read gets no answer (the loader waits 30 s before it retries),
  // which holds the progress bar on screen for the check; then Cancel, and Load for real.
  env.hub.faults.add(env.cdnPath(REPOS.scripted, 'model.safetensors'), { kind: 'stall', ms: 60_000 }, 1, { minBytes: 1 << 20 });
  await page.getByTestId('load-model').click();
  await expect(page.getByTestId('load-progress').getByRole('progressbar')).toBeVisible();
  await expectAccessible(page, 'chat-loading');
  await page.getByTestId('load-cancel').click();
  env.hub.faults.clear();
  await app.load();

  await page.getByTestId('open-models').click();
  await expect(page.getByTestId('cached-model')).toHaveCount(1);
  await expectAccessible(page, 'model-management');
  await page.getByTestId('model-manager-close').click();

  // Answers: markdown with a link and bold, then highlighted code.
  await app.send(KOREAN.prompt);
  await app.answer(0);
  await app.send(CODE.prompt);
  await app.answer(1);
  await expectAccessible(page, 'chat-answer');

  const answer = page.getByTestId('message-assistant').nth(1);
  await answer.getByTestId('token-view-toggle').click();
  await expect(answer.getByTestId('token-scores')).toHaveAttribute('data-status', 'done', { timeout: 120_000 });
  await answer.getByTestId('token').first().hover();
  await expectAccessible(page, 'token-view');

  // The conversation list: docked beside the chat on a wide screen, a drawer on a phone.
  await page.getByTestId('new-chat').click();
  await expect(page.getByTestId('conversation-item')).toHaveCount(1);
  await expectAccessible(page, 'conversations', { variants: ['light', 'dark'] });
  await page.setViewportSize(PHONE);
  await page.getByTestId('open-conversations').click();
  await expect(page.getByTestId('conversation-item')).toHaveCount(1);
  await expectAccessible(page, 'conversations-phone', { variants: ['phone-light', 'phone-dark'] });
  await page.getByTestId('conversation-panel-close').click();
  await page.setViewportSize({ width: 1280, height: 800 });

  // The error screens: a load that fails (each kind of advice: settings, retry) beside the
  // answer it could not give, and, in the last test, the page without WebGPU.
  await app.tab(1);
  await app.send('안녕하세요');
  await expect(page.getByTestId('error')).toHaveAttribute('data-code', 'unauthorized', { timeout: 60_000 });
  await expect(page.getByTestId('answer-load-failed')).toBeVisible();
  await expectAccessible(page, 'error-unauthorized');

  // The custom tab before a repo is chosen: the form and the Korean-capable models with their licenses.
  await app.tab(3);
  await expect(page.getByTestId('korean-repos')).toBeVisible();
  await expectAccessible(page, 'custom-tab');
  await page.getByTestId('custom-repo-input').fill('e2e/no-such-model');
  await page.getByTestId('custom-repo-open').click();
  await page.getByTestId('load-model').click();
  await expect(page.getByTestId('error')).toHaveAttribute('data-code', 'not-found', { timeout: 60_000 });
  await expectAccessible(page, 'error-not-found');

  // Every tensor read answers 500: the loader gives up after its retries (a few seconds of backoff).
  env.hub.faults.add(env.cdnPath(REPOS.random, 'model.safetensors'), { kind: 'status', status: 500 }, Infinity, { minBytes: 1 << 20 });
  await page.getByTestId('custom-repo-input').fill(REPOS.random);
  await page.getByTestId('custom-repo-open').click();
  // The last repo's error goes with it: the tab offers Load for the repo it now names.
  await expect(page.getByTestId('error')).toHaveCount(0);
  await page.getByTestId('load-model').click();
  await expect(page.getByTestId('error')).toHaveAttribute('data-code', 'download-failed', { timeout: 60_000 });
  await expect(page.getByTestId('error-retry')).toBeVisible();
  await expectAccessible(page, 'error-download-failed');
  env.hub.faults.clear();
});

test('the no-WebGPU screen passes axe', async ({ playwright, env }) => {
  const browser = await playwright.chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  try {
    // A context of its own: axe's Playwright runner opens a page beside this one to collect results.
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    await page.goto(`${env.site}/?hub=${encodeURIComponent(env.hub.url)}`);
    await expect(page.getByTestId('error')).toHaveAttribute('data-code', 'webgpu-unavailable');
    await expectAccessible(page, 'error-webgpu-unavailable');
  } finally {
    await browser.close();
  }
});
