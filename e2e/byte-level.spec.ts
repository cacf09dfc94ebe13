/**
 * Today's Korean models in the app: repos with the real Llama-3 and Qwen3 tokenizer files
 * (byte-level BPE, their own chat templates) answer a scripted Korean text exactly, streamed
 * without ever showing half a syllable, stopped by <|eot_id|> (named only in
 * generation_config.json) and by <|im_end|>; the model info shows tokens per Hangul syllable;
 * the tab's sampling starts from generation_config.json. (src/cli/cli-byte-level.test.ts runs
 * the same repos through the CLI.) Blind Compare and the token view on the same pair.
 */
import { BYTE_LEVEL_ANSWER } from '../src/chat/testing/scripted-byte-level';
import { expect, REPOS, test } from './fixtures';

test('Llama-3 and Qwen3 repos answer the scripted Korean exactly through byte-level pieces, stopping at <|eot_id|> and <|im_end|>', async ({ app, page, env }) => {
  await app.open([REPOS.llama3, REPOS.qwen3]);
  // Every value the answer shows while it streams, to check that none holds half a character.
  await page.evaluate(() => {
    const seen: string[] = [];
    (window as unknown as { streamed: string[] }).streamed = seen;
    new MutationObserver((records) => {
      for (const record of records) {
        const target = record.target as Element;
        if (target.getAttribute?.('data-testid') === 'message-assistant') seen.push(target.getAttribute('data-raw') ?? '');
      }
    }).observe(document.body, { subtree: true, attributes: true, attributeFilter: ['data-raw'] });
  });

  for (const [index, repo] of [REPOS.llama3, REPOS.qwen3].entries()) {
    await app.tab(index);
    await app.load();
    const tokenizer = page.getByTestId('model-tokenizer');
    await expect(tokenizer).toHaveAttribute('data-kind', 'byte-level');
    const perSyllable = Number(await tokenizer.getAttribute('data-tokens-per-syllable'));
    expect(perSyllable).toBeGreaterThan(0.5);
    expect(perSyllable).toBeLessThan(1.5);

    // generation_config.json samples (temperature 0.6): the tab starts from it. The scripted
    // logits are 32 apart, so even sampled the answer is the script.
    await page.getByTestId('open-settings').click();
    await expect(page.getByTestId('setting-temperature')).toHaveValue('0.6');
    await expect(page.getByTestId('settings-repo-defaults')).toBeVisible();
    await page.getByTestId('settings-close').click();

    await app.send('하와이 3일 여행 계획을 세워 주세요. <|eot_id|><|im_end|>');
    expect(await app.answer(0)).toBe(BYTE_LEVEL_ANSWER);
    const answer = page.getByTestId('message-assistant').first();
    await expect(answer).toHaveAttribute('data-raw', BYTE_LEVEL_ANSWER);
    const streamed = await page.evaluate(() => (window as unknown as { streamed: string[] }).streamed.splice(0));
    expect(streamed.length).toBeGreaterThan(1);
    for (const text of streamed) {
      expect(text).not.toContain('\uFFFD');
      expect(BYTE_LEVEL_ANSWER.startsWith(text)).toBe(true);
    }
    // The answer's tokens and the stop token: nothing after the stop.
    await expect(answer).toHaveAttribute('data-new-tokens', String(env.scriptedIds[repo].length));
  }
  await app.screenshot('byte-level-answer');
});

test('the custom tab lists Korean-capable repos, each with its license, before anything downloads', async ({ app, page }) => {
  await app.open([REPOS.random]);
  await app.tab(3);
  const list = page.getByTestId('korean-repos');
  await expect(list).toBeVisible();
  await expect(page.getByTestId('korean-repo-0')).toHaveAttribute('data-repo', 'Bllossom/llama-3.2-Korean-Bllossom-3B');
  await expect(page.getByTestId('korean-repo-license-0')).toContainText('Llama 3.2 Community License');
  const count = await list.locator('li').count();
  expect(count).toBeGreaterThanOrEqual(4);
  for (let i = 0; i < count; i++) await expect(page.getByTestId(`korean-repo-license-${i}`)).toContainText(/라이선스: \S/);
  await app.screenshot('korean-repos');
});

test('blind Compare of a Llama-3 and a Qwen3 repo: each asked in its own chat template, both exact; the token view reads byte-level pieces, and the other tokenizer scores the same text', async ({ app, page }) => {
  await app.open([REPOS.llama3, REPOS.qwen3]);
  await app.tab(2);
  await app.settings({ temperature: 0, repetitionPenalty: 1, maxNewTokens: 60, contextLength: 512 });
  await page.getByTestId('blind-toggle').check();
  await page.getByTestId('preset-2').click();
  // Either answer past its own template's last prompt token would show " LE", not the script.
  for (const side of [0, 1]) {
    const answer = page.getByTestId(`compare-answer-${side}`).getByTestId('message-assistant');
    await expect(answer).toHaveAttribute('data-state', 'done', { timeout: 150_000 });
    await expect(answer).toHaveAttribute('data-raw', BYTE_LEVEL_ANSWER);
  }
  await page.getByTestId('vote-b').click();
  await expect(page.getByTestId('vote-result')).toContainText('scripted');

  const answer = page.getByTestId('compare-answer-0');
  await answer.getByTestId('token-view-toggle').click();
  const own = answer.getByTestId('token-scores').first();
  await expect(own).toHaveAttribute('data-status', 'done', { timeout: 120_000 });
  // Split syllables (뷁, 😀) are pieces of bytes: together the spans are the answer, nothing lost or doubled.
  expect(await own.getByTestId('token-spans').textContent()).toBe(BYTE_LEVEL_ANSWER);
  await answer.getByTestId('score-other').click();
  const other = answer.getByTestId('token-scores').nth(1);
  await expect(other).toHaveAttribute('data-status', 'done', { timeout: 120_000 });
  expect(await other.getByTestId('token-spans').textContent()).toBe(BYTE_LEVEL_ANSWER);
  await expect(other.getByTestId('token-perplexity')).toContainText('퍼플렉서티');
});
