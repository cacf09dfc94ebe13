import { DEFAULT_ANSWER, DEFAULT_SCRIPTS } from '../src/model/scripted-model';
import { expect, REPOS, test } from './fixtures';

const [, CODE, KOREAN] = DEFAULT_SCRIPTS;

test('Enter sends, Shift+Enter and IME composition do not; edit-and-resend, regenerate, copy, presets and new chat', async ({ app, page, context }) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  await app.open([REPOS.scripted]);
  await app.load();
  const input = page.getByTestId('chat-input');

  await input.fill('첫 줄');
  await input.press('Shift+Enter');
  await input.pressSequentially('둘째 줄');
  await expect(input).toHaveValue('첫 줄\n둘째 줄');
  // A Korean IME composing a syllable owns Enter (isComposing, or keyCode 229 where the browser says so).
  await input.fill(CODE.prompt);
  for (const init of [{ isComposing: true }, { keyCode: 229 }]) {
    await input.evaluate((element, extra) => {
      const event = new KeyboardEvent('keydown', { key: 'Enter', code: 'Enter', bubbles: true, cancelable: true, ...extra });
      if ('keyCode' in extra) Object.defineProperty(event, 'keyCode', { value: extra.keyCode });
      element.dispatchEvent(event);
    }, init);
  }
  await expect(input).toHaveValue(CODE.prompt);
  await expect(page.getByTestId('message-user')).toHaveCount(0);
  await input.press('Enter');
  await expect(page.getByTestId('message-user')).toHaveText(CODE.prompt);
  expect(await app.answer(0)).toContain('def fibonacci(n):');

  await page.getByTestId('edit-message').click();
  await page.getByTestId('edit-input').fill(KOREAN.prompt);
  await page.getByTestId('edit-send').click();
  await expect(page.getByTestId('message-user')).toHaveText([KOREAN.prompt]);
  await app.answer(0);
  await expect(page.getByTestId('message-assistant')).toHaveAttribute('data-raw', KOREAN.answer);

  await page.getByTestId('regenerate').click();
  await expect(page.getByTestId('message-assistant')).toHaveCount(1);
  await app.answer(0);
  await expect(page.getByTestId('message-assistant')).toHaveAttribute('data-raw', KOREAN.answer);

  await page.getByTestId('copy-answer').click();
  await expect(page.getByTestId('copy-answer')).toContainText('복사됨');
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(KOREAN.answer);

  await page.getByTestId('new-chat').click();
  await expect(page.getByTestId('message-user')).toHaveCount(0);
  await page.getByTestId('preset-0').click();
  await expect(page.getByTestId('message-user')).toContainText('하와이');
  await app.answer(0);
  await expect(page.getByTestId('message-assistant')).toHaveAttribute('data-raw', DEFAULT_ANSWER);
  await page.reload();
  await expect(page.getByTestId('message-user')).toHaveCount(1);
  await expect(page.getByTestId('message-user')).toContainText('하와이');
});
