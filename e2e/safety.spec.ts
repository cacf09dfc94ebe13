import { FAKE_HUB_TOKEN } from '../src/loader/testing/fake-hub';
import { DEFAULT_SCRIPTS } from '../src/model/scripted-model';
import { ARTIFACTS, expect, REPOS, test } from './fixtures';

const [XSS, CODE, KOREAN] = DEFAULT_SCRIPTS;

test('XSS payloads in a model answer stay inert text; code is highlighted; Korean renders', async ({ app, page }) => {
  await app.open([REPOS.scripted]);
  await app.load();

  await app.send(XSS.prompt);
  await app.answer(0);
  const answer = page.getByTestId('message-assistant').first();
  await expect(answer).toHaveAttribute('data-raw', XSS.answer);
  for (const payload of ['<img src=x onerror=alert(1)>', '<svg/onload=alert(1)>', '<script>alert(1)</script>']) {
    await expect(answer.getByTestId('answer-text')).toContainText(payload);
  }
  await expect(answer.getByTestId('answer-text')).toContainText('click');
  const dom = await page.evaluate(() => ({
    handlers: document.querySelectorAll('img[onerror], svg[onload], [onload], [onerror], [onclick]').length,
    scriptsInAnswers: document.querySelectorAll('[data-testid="answer-text"] script, [data-testid="answer-text"] img, [data-testid="answer-text"] svg').length,
    javascriptLinks: [...document.querySelectorAll('a')].filter((a) => a.getAttribute('href')?.trim().toLowerCase().startsWith('javascript:')).length,
  }));
  expect(dom).toEqual({ handlers: 0, scriptsInAnswers: 0, javascriptLinks: 0 });

  await app.send(CODE.prompt);
  await app.answer(1);
  const code = page.getByTestId('message-assistant').nth(1).locator('pre code.hljs.language-python');
  await expect(code).toContainText('def fibonacci(n):');
  await expect(code.locator('.hljs-keyword').first()).toHaveText('def');

  await app.send(KOREAN.prompt);
  await app.answer(2);
  const korean = page.getByTestId('message-assistant').nth(2);
  await expect(korean.locator('strong')).toHaveText('스크립트 모델');
  const link = korean.locator('a', { hasText: '신라' });
  await expect(link).toHaveAttribute('href', 'https://ko.wikipedia.org/wiki/%EC%8B%A0%EB%9D%BC');
  await expect(link).toHaveAttribute('rel', 'noopener noreferrer');
  await expect(link).toHaveAttribute('target', '_blank');
  // Nothing fired: alert() would have opened a dialog.
  expect(app.dialogs).toEqual([]);
  await app.screenshot('chat-markdown');

  await page.setViewportSize({ width: 375, height: 740 });
  await page.getByTestId('message-assistant').nth(1).scrollIntoViewIfNeeded();
  await app.screenshot('phone-chat');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow, 'the page scrolls sideways at phone width').toBeLessThanOrEqual(0);
  expect(app.dialogs).toEqual([]);
});

test('a repo that does not exist shows the not-found error with what to do', async ({ app, page }) => {
  await app.open(['e2e/no-such-model']);
  await page.getByTestId('load-model').click();
  const error = page.getByTestId('error');
  await expect(error).toBeVisible({ timeout: 60_000 });
  await expect(error).toHaveAttribute('data-code', 'not-found');
  await expect(error).toContainText('저장소 이름');
  await app.screenshot('error-not-found');
});

test('a gated repo asks for a token; with the token saved for a trusted hub it loads', async ({ app, page }) => {
  await app.open([REPOS.gated]);
  await page.getByTestId('load-model').click();
  await expect(page.getByTestId('error')).toHaveAttribute('data-code', 'unauthorized', { timeout: 60_000 });
  await app.screenshot('error-unauthorized');
  await page.getByTestId('error-settings').click();
  await page.getByTestId('setting-token').fill(FAKE_HUB_TOKEN);
  await expect(page.getByTestId('hub-override-note')).toContainText('보내지 않습니다');
  await page.getByTestId('trust-hub').click();
  await expect(page.getByTestId('hub-override-note')).toContainText('토큰을 보냅니다');
  await page.getByTestId('settings-close').click();
  await page.getByTestId('error-retry').click();
  await expect(page.getByTestId('model-status')).toBeVisible({ timeout: 120_000 });
  await app.send(DEFAULT_SCRIPTS[2].prompt);
  await app.answer(0);
  await expect(page.getByTestId('message-assistant')).toHaveAttribute('data-raw', DEFAULT_SCRIPTS[2].answer);
});

test('the settings panel edits and keeps the open tab’s settings', async ({ app, page }) => {
  await app.open([REPOS.scripted]);
  await page.getByTestId('open-settings').click();
  await page.getByTestId('setting-temperature').fill('0.3');
  await page.getByTestId('setting-dtype').selectOption('f16');
  await expect(page.getByTestId('setting-system-prompt')).toHaveValue(/호기심 많은 USER/);
  await app.screenshot('settings');
  await page.reload();
  await page.getByTestId('open-settings').click();
  await expect(page.getByTestId('setting-temperature')).toHaveValue('0.3');
  await expect(page.getByTestId('setting-dtype')).toHaveValue('f16');
});

test('a browser without a WebGPU adapter gets the screen that says which browsers and flags work', async ({ playwright, env }) => {
  // Chromium without --enable-unsafe-webgpu: navigator.gpu exists on Linux, but no adapter comes.
  const browser = await playwright.chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`${env.site}/?hub=${encodeURIComponent(env.hub.url)}`);
    const error = page.getByTestId('error');
    await expect(error).toHaveAttribute('data-code', 'webgpu-unavailable');
    await expect(error).toContainText('chrome://flags');
    await page.screenshot({ path: `${ARTIFACTS}/error-webgpu-unavailable.png` });
  } finally {
    await browser.close();
  }
});
