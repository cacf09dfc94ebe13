import { readFile } from 'node:fs/promises';
import { expect, REPOS, test } from './fixtures';

const GREEDY = { temperature: 0, repetitionPenalty: 1, maxNewTokens: 8, contextLength: 512 };

test('blind Compare: names hidden until the vote, then revealed and counted on the scoreboard; the token view scores an answer under both models', async ({ app, page }) => {
  await app.open([REPOS.random, REPOS.randomB]);
  await app.tab(2);
  await app.settings(GREEDY);
  await page.getByTestId('blind-toggle').check();
  await expect(page.getByTestId('scoreboard')).toContainText('아직 투표가 없습니다');

  await page.getByTestId('preset-1').click();
  const turn = page.getByTestId('compare-turn');
  for (const shown of [0, 1]) {
    await expect(page.getByTestId(`compare-answer-${shown}`).getByTestId('message-assistant')).toHaveAttribute('data-state', 'done', { timeout: 150_000 });
    await expect(page.getByTestId(`compare-answer-${shown}`)).toHaveAttribute('data-blind', 'hidden');
  }
  // The tiny repos' titles are their names: e2e/tiny-random -> "tiny-random".
  await expect(turn).not.toContainText('tiny-random');
  await expect(turn.getByTestId('decode-rate')).toHaveCount(0);
  await app.screenshot('compare-blind');

  await page.getByTestId('vote-a').click();
  await expect(page.getByTestId('vote-result')).toContainText('tiny-random');
  const winner = await page.getByTestId('compare-answer-0').getAttribute('data-model');
  expect([REPOS.random, REPOS.randomB]).toContain(winner);
  await expect(page.getByTestId('vote-a')).toHaveCount(0);
  // The scoreboard reads the left model (tiny-random) first: A's win is its win or its loss.
  const row = page.getByTestId('scoreboard-row');
  await expect(row).toHaveCount(1);
  await expect(row).toHaveAttribute('data-first', REPOS.random);
  await expect(row.getByTestId(winner === REPOS.random ? 'score-wins' : 'score-losses')).toHaveText('1');
  await expect(row.getByTestId('score-count')).toHaveText('1');
  await expect(row.getByTestId('score-rate')).toContainText(winner === REPOS.random ? '100% (21%–100%)' : '0% (0%–79%)');

  // A reload shows the same sides, still revealed, and the vote is still counted.
  await page.reload();
  await app.tab(2);
  await expect(page.getByTestId('compare-answer-0')).toHaveAttribute('data-model', winner!);
  await expect(page.getByTestId('scoreboard-row').getByTestId('score-count')).toHaveText('1');

  // Token view: the answer's tokens coloured by the model that wrote it, then by the other one.
  const answer = page.getByTestId('compare-answer-0');
  await answer.getByTestId('token-view-toggle').click();
  const own = answer.getByTestId('token-scores').first();
  await expect(own).toHaveAttribute('data-status', 'done', { timeout: 120_000 });
  const raw = await answer.getByTestId('message-assistant').getAttribute('data-raw');
  expect(await own.getByTestId('token-spans').textContent()).toBe(raw);
  await own.getByTestId('token').first().hover();
  await expect(own.getByTestId('token-alternatives').first().locator('li')).toHaveCount(5);
  await expect(own.getByTestId('token-logprob').first()).toHaveText(/^-?\d+\.\d{3}$/);
  await answer.getByTestId('score-other').click();
  const other = answer.getByTestId('token-scores').nth(1);
  await expect(other).toHaveAttribute('data-status', 'done', { timeout: 120_000 });
  await expect(other).toHaveAttribute('data-model', winner === REPOS.random ? REPOS.randomB : REPOS.random);
  await expect(other.getByTestId('token-perplexity')).toContainText('퍼플렉서티');
  await app.screenshot('token-view');
});

test('a question set of two runs through both models, exports one JSONL line per question and model, and is judged blind', async ({ app, page }) => {
  await app.open([REPOS.random, REPOS.randomB]);
  await app.tab(2);
  await app.settings({ ...GREEDY, maxNewTokens: 6 });

  // A bad file is refused whole: the paper's three questions stay.
  await page.getByTestId('question-set').setInputFiles({ name: 'bad.jsonl', mimeType: 'application/jsonl', buffer: Buffer.from('{"question": "하나"}\n{"q": 2}\n') });
  await expect(page.getByTestId('question-set-error')).toContainText('bad.jsonl line 2');
  await expect(page.getByTestId('question-set-name')).toContainText('질문 3개');

  const questions = ['하와이 3일 여행 계획을 짜 주세요.', '신라의 삼국 통일을 설명해 주세요.'];
  const file = questions.map((question) => JSON.stringify({ question })).join('\n');
  await page.getByTestId('question-set').setInputFiles({ name: 'two.jsonl', mimeType: 'application/jsonl', buffer: Buffer.from(file) });
  await expect(page.getByTestId('question-set-name')).toContainText('two.jsonl · 질문 2개');
  await expect(page.getByTestId('question-set-error')).toHaveCount(0);

  await page.getByTestId('run-set').click();
  const progress = page.getByTestId('set-progress');
  await expect(progress).toHaveAttribute('data-status', 'done', { timeout: 170_000 });
  await expect(progress).toHaveAttribute('data-done', '4');
  await expect(page.getByTestId('set-result')).toHaveCount(2);
  await expect(page.getByTestId('set-rate')).toHaveCount(4);

  const download = page.waitForEvent('download');
  await page.getByTestId('export-results').click();
  const lines = (await readFile(await (await download).path(), 'utf8')).trimEnd().split('\n').map((line) => JSON.parse(line));
  expect(lines.map((line) => [line.question, line.model])).toEqual([
    [questions[0], REPOS.random],
    [questions[0], REPOS.randomB],
    [questions[1], REPOS.random],
    [questions[1], REPOS.randomB],
  ]);
  for (const line of lines) {
    expect(line).toMatchObject({ revision: 'main', seed: 0, settings: { temperature: 0, maxNewTokens: 6 } });
    expect(line.commit).toMatch(/^[0-9a-f]{40}$/); // what 'main' pointed at on the hub
    expect(line.answer.length).toBeGreaterThan(0);
    expect(line.tokens).toBeGreaterThan(0);
    expect(line.tokensPerSecond).toBeGreaterThanOrEqual(0);
  }
  const table = page.getByTestId('set-results');
  await expect(table).toContainText(lines[1].answer.slice(0, 8));

  // Blind judging over the results: names hidden, then revealed row by row.
  await page.getByTestId('blind-toggle').check();
  await expect(table.locator('thead')).not.toContainText('tiny-random');
  await page.getByTestId('vote-tie').click();
  await page.getByTestId('vote-b').click();
  await expect(page.getByTestId('set-judged')).toContainText('2/2');
  await expect(page.getByTestId('vote-a')).toHaveCount(0);
  await expect(page.getByTestId('scoreboard-row').getByTestId('score-count')).toHaveText('2');
  await app.screenshot('question-set');
});
