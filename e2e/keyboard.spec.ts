/**
 * Every feature without a mouse: Tab, Shift+Tab, the arrow keys, Enter, Space and Esc only, with
 * the focus visible at every stop (tabTo checks each one). Two tiny models: the chat tab streams
 * long enough to be stopped; Compare answers in blind mode and takes a vote. Compare's blind
 * screens are checked by axe here too, which saves the suite a second pair of model loads.
 */
import { speakable } from '../src/ui/chat/speech';
import { expectAccessible } from './axe';
import { expect, REPOS, test } from './fixtures';
import { expectFocusVisible, focused, tabTo, typeOver } from './keyboard';

test('keyboard only: tabs, Load, Enter sends and Esc stops, focus back in the message box, conversations, settings, a blind vote', async ({ app, page }) => {
  test.setTimeout(240_000);
  await app.open([REPOS.random, REPOS.randomB]);
  const input = page.getByTestId('chat-input');

  // The tab list is one Tab stop; the arrow keys, Home and End move between tabs and open them.
  await page.keyboard.press('Tab');
  expect((await focused(page))?.testId).toBe('open-conversations');
  await tabTo(page, 'tab-0');
  for (const [key, selected] of [['ArrowRight', 1], ['ArrowRight', 2], ['End', 3], ['ArrowRight', 0], ['ArrowLeft', 3], ['Home', 0]] as const) {
    await page.keyboard.press(key);
    await expect(page.getByTestId(`tab-${selected}`)).toBeFocused();
    await expect(page.getByTestId(`tab-${selected}`)).toHaveAttribute('aria-selected', 'true');
    await expectFocusVisible(page);
  }
  await page.keyboard.press('Tab');
  expect((await focused(page))?.role, 'Tab leaves the tab list').not.toBe('tab');

  // Load, then the message box has the focus the Load button had.
  await tabTo(page, 'load-model');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('model-status')).toBeVisible({ timeout: 120_000 });
  await expect(input).toBeFocused();

  // A preset is a button like the rest; Esc stops the answer, and the focus (lost with the
  // presets) comes back to the message box.
  await tabTo(page, 'preset-0', { back: true });
  await page.keyboard.press('Enter');
  const first = page.getByTestId('message-assistant').first();
  await expect(first.getByTestId('answer-text')).not.toBeEmpty({ timeout: 120_000 });
  await page.keyboard.press('Escape');
  await expect(first).toHaveAttribute('data-state', 'stopped');
  await expect(input).toBeFocused();
  await expectFocusVisible(page);

  // Enter sends. What a screen reader hears of the answer (the live region's additions) comes
  // in sentences, never per streamed piece (each change of the answer's text).
  const heard = await page.evaluateHandle(() => {
    const log = { said: [] as string[], steps: 0 };
    new MutationObserver((records) => {
      for (const record of records) for (const node of record.addedNodes) log.said.push(node.textContent ?? '');
    }).observe(document.querySelector('[data-testid="live-announcer"]')!, { childList: true });
    new MutationObserver((records) => (log.steps += records.length)).observe(document.body, { subtree: true, attributeFilter: ['data-raw'] });
    return log;
  });
  await page.keyboard.type('한 번 더 길게 이야기해 주세요.');
  await page.keyboard.press('Enter');
  const second = page.getByTestId('message-assistant').nth(1);
  await expect.poll(() => heard.evaluate((log) => log.steps), { timeout: 120_000 }).toBeGreaterThan(24);
  await page.keyboard.press('Escape');
  await expect(second).toHaveAttribute('data-state', 'stopped');
  await expect(input).toBeFocused();
  const { said, steps } = await heard.jsonValue();
  const raw = (await second.getAttribute('data-raw'))!;
  const sentences = raw.match(/[.!?…](?=\s)|[。！？]|\n/g)?.length ?? 0;
  expect(said.at(-1)).toBe('답변 중지됨 (stopped)');
  // All of it is said (the words: markdown's marks are not read), in pieces that end sentences.
  const words = (text: string) => text.replace(/[^\p{L}\p{N}]/gu, '');
  expect(words(said.slice(0, -1).join(''))).toBe(words(speakable(raw)));
  expect(said.length, `${said.length} announcements for ${steps} streamed steps and ${sentences} sentence ends`).toBeLessThanOrEqual(sentences + 2 + Math.ceil(raw.length / 240));
  expect(said.length).toBeLessThan(steps / 4);

  // New chat keeps the conversation; in the list it opens, is renamed and deleted (then undone).
  await tabTo(page, 'new-chat', { back: true });
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('message-user')).toHaveCount(0);
  const items = page.getByTestId('conversation-item');
  await expect(items).toHaveCount(1);
  await tabTo(page, 'conversation-open', { back: true });
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('message-user')).toHaveCount(2);
  await page.keyboard.press('Tab');
  await expect(items.getByTestId('rename-conversation')).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('rename-input')).toBeFocused();
  await typeOver(page, '키보드로 바꾼 이름');
  await page.keyboard.press('Enter');
  await expect(items.getByTestId('conversation-title')).toHaveText('키보드로 바꾼 이름');
  await expect(items.getByTestId('rename-conversation')).toBeFocused();
  await page.keyboard.press('Tab');
  await expect(items.getByTestId('delete-conversation')).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(items).toHaveCount(0);
  await expect(page.getByTestId('undo-delete')).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(items).toHaveCount(1);

  // Compare, and its settings from the keyboard: the panel takes the focus, keeps Tab inside,
  // and gives the focus back to the settings button when Esc closes it.
  await tabTo(page, 'tab-0');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  await expect(page.getByTestId('compare')).toBeVisible();
  // Compare before its second model loads: the bench (blind mode, question sets, scoring a text) and the load cost.
  await expect(page.getByTestId('load-cost')).toHaveAttribute('data-state', 'ready');
  await expectAccessible(page, 'compare-before-load');
  await tabTo(page, 'open-settings', { back: true });
  await page.keyboard.press('Enter');
  const settings = page.getByTestId('settings');
  await expect(settings.getByTestId('setting-temperature')).toBeFocused();
  await page.keyboard.press('Shift+Tab');
  expect(await settings.evaluate((panel) => panel.contains(document.activeElement)), 'Shift+Tab stays in the settings panel').toBe(true);
  await tabTo(page, 'setting-max-new-tokens');
  await typeOver(page, '8');
  await page.keyboard.press('Escape');
  await expect(settings).toBeHidden();
  await expect(page.getByTestId('open-settings')).toBeFocused();

  // Blind mode (Space ticks it), a question, and a vote.
  await tabTo(page, 'blind-toggle');
  await page.keyboard.press('Space');
  await expect(page.getByTestId('blind-toggle')).toBeChecked();
  await tabTo(page, 'chat-input');
  await page.keyboard.type('신라의 삼국 통일을 설명해 주세요.');
  await page.keyboard.press('Enter');
  for (const shown of [0, 1]) {
    await expect(page.getByTestId(`compare-answer-${shown}`).getByTestId('message-assistant')).toHaveAttribute('data-state', 'done', { timeout: 150_000 });
  }
  await expect(input).toBeFocused();
  await expectAccessible(page, 'compare-blind');
  await tabTo(page, 'vote-a', { back: true });
  await page.keyboard.press('Enter');
  const result = page.getByTestId('vote-result');
  await expect(result).toContainText('tiny-random');
  await expect(result).toBeFocused();
  await expectFocusVisible(page);
  await expectAccessible(page, 'compare-voted');
});
