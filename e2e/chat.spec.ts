import { cliGenerate, expect, REPOS, test } from './fixtures';

const PROMPT = '안녕하세요, 자기소개를 해 주세요.';
const GREEDY = { temperature: 0, repetitionPenalty: 1, maxNewTokens: 24, contextLength: 512 };

test('loads a model with progress, answers greedily exactly as the CLI does, and keeps the history over a reload', async ({ app, page, env }) => {
  await app.open([REPOS.random]);
  await app.settings(GREEDY);
  // Each 4 MB tensor read pauses after 1 MB, so the download is seen mid-way, with bytes and speed.
  env.hub.faults.add(env.cdnPath(REPOS.random, 'model.safetensors'), { kind: 'stall', ms: 1500, afterBytes: 1 << 20 });
  await page.getByTestId('load-model').click();
  await expect(page.getByTestId('load-progress')).toHaveAttribute('data-phase', 'download');
  await expect(page.getByTestId('load-bytes')).toContainText('MB');
  await app.screenshot('load-progress');
  env.hub.faults.clear();
  await expect(page.getByTestId('model-status')).toBeVisible({ timeout: 120_000 });
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-from-cache', 'false');

  await app.send(PROMPT);
  await expect(page.getByTestId('message-user')).toHaveText(PROMPT);
  const shown = await app.answer(0);
  const expected = await cliGenerate(env, REPOS.random, PROMPT, ['--dtype', 'q4', '--max-new-tokens', '24', '--context-length', '512']);
  // The app renders markdown; random tokens can form markup, so compare the raw text it kept.
  const raw = await page.evaluate(() => document.querySelector('[data-testid="message-assistant"]')?.getAttribute('data-raw'));
  expect(raw).toBe(expected.text);
  expect(shown.length).toBeGreaterThan(0);
  await expect(page.getByTestId('stats')).toContainText('tok/s');
  await expect(page.getByTestId('context-use')).toContainText('/ 512');
  await app.screenshot('chat-answer');
  await page.emulateMedia({ colorScheme: 'dark' });
  await app.screenshot('chat-answer-dark');
  await page.emulateMedia({ colorScheme: 'light' });

  await page.reload();
  await expect(page.getByTestId('message-user')).toHaveText(PROMPT);
  await expect(page.getByTestId('message-assistant')).toHaveAttribute('data-raw', expected.text);
});

test('Cancel stops a load; Stop ends an answer mid-stream (button and Esc)', async ({ app, page }) => {
  await app.open([REPOS.random]);
  await app.settings({ ...GREEDY, maxNewTokens: 400 });
  await page.getByTestId('load-model').click();
  await page.getByTestId('load-cancel').click();
  await expect(page.getByTestId('load-progress')).toBeHidden();
  await expect(page.getByTestId('load-model')).toBeVisible();
  await expect(page.getByTestId('model-status')).toBeHidden();
  await app.load();

  await app.send('끝없이 길게 이야기해 주세요.');
  const answer = page.getByTestId('message-assistant').first();
  await expect(answer.getByTestId('answer-text')).not.toBeEmpty();
  await page.getByTestId('stop').click();
  await expect(answer).toHaveAttribute('data-state', 'stopped');
  await expect(page.getByTestId('send')).toBeVisible();

  await app.send('한 번 더 길게 이야기해 주세요.');
  const second = page.getByTestId('message-assistant').nth(1);
  await expect(second.getByTestId('answer-text')).not.toBeEmpty();
  await page.keyboard.press('Escape');
  await expect(second).toHaveAttribute('data-state', 'stopped');
  const tokens = await second.getAttribute('data-new-tokens');
  expect(Number(tokens)).toBeLessThan(400);
});

test('a reload loads the model from the browser cache (OPFS) with the hub offline, and says so', async ({ app, page, env }) => {
  await app.open([REPOS.random]);
  await app.load();
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-from-cache', 'false');

  const served = env.hub.requests.length;
  env.hub.faults.offline = true;
  await page.reload();
  await app.load();
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-from-cache', 'true');
  await expect(page.getByTestId('model-status')).toContainText('캐시에서 불러옴');
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-offline', 'true');
  // Whatever the app asked the hub after going offline was refused: the model came from OPFS.
  expect(env.hub.requests.slice(served).filter((request) => request.status !== 0)).toEqual([]);

  await page.getByTestId('open-models').click();
  await expect(page.getByTestId('cached-model')).toHaveCount(1);
  await expect(page.getByTestId('cached-model')).toContainText(REPOS.random);
  await app.screenshot('model-management');
});
