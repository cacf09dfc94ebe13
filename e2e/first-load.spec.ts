import { cliGenerate, expect, REPOS, test } from './fixtures';

const PROMPT = '신라의 삼국 통일 이후를 알려 주세요.';

test('a model with a 176-wide MLP answers in q4 (its down_proj kept in f16), as the CLI does', async ({ app, page, env }) => {
  await app.open([REPOS.mlp176]);
  await app.settings({ temperature: 0, repetitionPenalty: 1, maxNewTokens: 12, contextLength: 512 });
  await app.load();
  await expect(page.getByTestId('model-status')).toContainText('q4');
  // Two layers' down_proj (176 wide) plus the f16 embedding and lm_head: 4 of 16 tensors.
  await expect(page.getByTestId('model-formats')).toHaveAttribute('data-not-q4', '4');
  await expect(page.getByTestId('model-formats')).toContainText('4 of 16 tensors not q4');
  await app.send(PROMPT);
  await app.answer(0);
  const expected = await cliGenerate(env, REPOS.mlp176, PROMPT, ['--dtype', 'q4', '--max-new-tokens', '12', '--context-length', '512']);
  await expect(page.getByTestId('message-assistant')).toHaveAttribute('data-raw', expected.text);
});
