import { cliGenerate, expect, REPOS, test } from './fixtures';

const PROMPT = '신라의 삼국 통일 이후를 알려 주세요.';

test('before Load the tab shows what it takes and the license; a model with a 176-wide MLP then answers in q4 as the CLI does', async ({ app, page, env }) => {
  await app.open([REPOS.mlp176]);
  await app.settings({ temperature: 0, repetitionPenalty: 1, maxNewTokens: 12, contextLength: 512 });
  // From the hub's tree and model card, before anything is downloaded.
  const cost = page.getByTestId('load-cost');
  await expect(cost).toHaveAttribute('data-state', 'ready');
  expect(Number(await page.getByTestId('load-cost-download').getAttribute('data-bytes'))).toBeGreaterThan(4 << 20);
  await expect(page.getByTestId('load-cost-download')).toContainText('MB');
  await expect(page.getByTestId('load-cost-disk')).toContainText('q4');
  await expect(page.getByTestId('load-cost-gpu')).toContainText('KV');
  await expect(page.getByTestId('load-cost-gpu')).toContainText('512');
  await expect(page.getByTestId('load-cost-storage')).toHaveAttribute('data-fits', 'true');
  await expect(page.getByTestId('load-license')).toContainText('other');
  await expect(page.getByTestId('load-license-card')).toHaveAttribute('href', `${env.hub.url}/${REPOS.mlp176}`);
  await app.screenshot('load-cost');
  await app.load();
  await expect(cost).toBeHidden();
  await expect(page.getByTestId('model-status')).toContainText('q4');
  // Two layers' down_proj (176 wide) plus the f16 embedding and lm_head: 4 of 16 tensors.
  await expect(page.getByTestId('model-formats')).toHaveAttribute('data-not-q4', '4');
  await expect(page.getByTestId('model-formats')).toContainText('4 of 16 tensors not q4');
  await app.send(PROMPT);
  await app.answer(0);
  const expected = await cliGenerate(env, REPOS.mlp176, PROMPT, ['--dtype', 'q4', '--max-new-tokens', '12', '--context-length', '512']);
  await expect(page.getByTestId('message-assistant')).toHaveAttribute('data-raw', expected.text);
});
