import { expect, REPOS, test } from './fixtures';

test('Compare sends one question to both models and shows two answers with their speeds', async ({ app, page }) => {
  await app.open([REPOS.random, REPOS.randomB]);
  await app.tab(2);
  await expect(page.getByTestId('compare')).toBeVisible();
  await app.settings({ temperature: 0, repetitionPenalty: 1, maxNewTokens: 12, contextLength: 512 });

  await page.getByTestId('preset-1').click();
  await expect(page.getByTestId('message-user')).toContainText('피보나치');
  for (const side of [0, 1]) {
    const answer = page.getByTestId(`compare-answer-${side}`).getByTestId('message-assistant');
    await expect(answer).toHaveAttribute('data-state', 'done', { timeout: 150_000 });
    await expect(answer.getByTestId('answer-text')).not.toBeEmpty();
    await expect(answer.getByTestId('decode-rate')).toContainText('tok/s');
  }
  const [left, right] = await Promise.all([0, 1].map((side) => page.getByTestId(`compare-answer-${side}`).getByTestId('message-assistant').getAttribute('data-raw')));
  expect(left).not.toBe(right); // two different models answered
  await app.screenshot('compare');
  await page.setViewportSize({ width: 375, height: 740 });
  await app.screenshot('phone-compare');
});
