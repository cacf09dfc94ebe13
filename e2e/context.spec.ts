import { cliChat, expect, REPOS, test } from './fixtures';

// Long Korean questions (~120 tokens each): with the system prompt, three nearly fill a
// 512-token context, and the fourth turn drops the oldest block.
const QUESTIONS = [
  '하와이로 3일 동안 여행을 가려고 합니다. 첫째 날, 둘째 날, 셋째 날 일정과 숙소, 식비, 교통비를 포함한 예산을 자세히 알려 주세요.',
  '파이썬으로 피보나치 수열을 구하는 함수를 재귀와 반복문 두 가지 방법으로 작성하고, 각각의 시간 복잡도를 설명해 주세요.',
  '삼국 통일 이후 신라의 정치, 경제, 문화는 어떻게 변했나요? 통일 신라 시대의 중요한 사건과 인물도 함께 알려 주세요.',
  '지금까지 이야기한 내용을 한 문단으로 정리해 주세요.',
];
const NEW_TOKENS = 16;

test('a conversation that fills the context: prefilled tokens per answer, the context meter, one block of old turns dropped, all as the CLI does', async ({ app, page, env }) => {
  await app.open([REPOS.random]);
  await app.settings({ temperature: 0, repetitionPenalty: 1, maxNewTokens: NEW_TOKENS, contextLength: 512 });
  await app.load();
  const meter = page.getByTestId('context-meter');
  await expect(meter).toHaveAttribute('data-total', '512');
  await expect(meter).toHaveAttribute('data-used', '0');

  for (const [index, question] of QUESTIONS.entries()) {
    await app.send(question);
    await app.answer(index);
  }
  const expected = await cliChat(env, REPOS.random, QUESTIONS, ['--dtype', 'q4', '--max-new-tokens', String(NEW_TOKENS), '--context-length', '512']);
  // The CLI saw the same history, dropped the same block and reused the cache as much.
  expect(expected[1].prefillTokens).toBeLessThan(expected[1].promptTokens / 2);
  expect(expected.map((turn) => turn.droppedTurns)).toEqual([0, 0, 0, 4]);
  const answers = page.getByTestId('message-assistant');
  for (const [index, turn] of expected.entries()) {
    await expect(answers.nth(index)).toHaveAttribute('data-raw', turn.text);
    await expect(answers.nth(index)).toHaveAttribute('data-prefill-tokens', String(turn.prefillTokens));
  }
  await expect(answers.nth(3).getByTestId('dropped-turns')).toContainText('4개');
  const last = expected[3];
  const used = last.promptTokens + last.newTokens;
  await expect(meter).toHaveAttribute('data-used', String(used));
  await expect(meter).toHaveAttribute('data-dropped', '4');
  await expect(meter).toContainText(`${used} / 512`);
  await app.screenshot('chat-context-full');
});
