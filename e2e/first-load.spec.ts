import { buildTinyModel } from '../src/model/tiny-model';
import { llamaTokenizerModel } from '../src/model/tiny-model-node';
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

test('a repo of another architecture is refused by name before any download, and Load says why', async ({ app, page, env }) => {
  const repo = 'e2e/gemma2-tiny';
  const files = buildTinyModel({ hiddenSize: 64, intermediateSize: 128, numLayers: 1, numHeads: 4, numKvHeads: 2, dtype: 'F16', format: 'safetensors', shards: 1, seed: 404, tokenizerModel: await llamaTokenizerModel() }).files;
  const config = JSON.parse(new TextDecoder().decode(files.get('config.json')));
  files.set('config.json', new TextEncoder().encode(JSON.stringify({ ...config, model_type: 'gemma2', architectures: ['Gemma2ForCausalLM'] })));
  env.hub.addRepo(repo, files);
  const refusal = 'Gemma2ForCausalLM is not supported: this engine runs LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM, ExaoneForCausalLM';
  await app.open([repo]);
  await expect(page.getByTestId('load-cost')).toHaveAttribute('data-code', 'bad-model');
  await expect(page.getByTestId('load-cost-error')).toContainText(refusal);
  await page.getByTestId('load-model').first().click();
  await expect(page.getByTestId('error')).toHaveAttribute('data-code', 'bad-model');
  await expect(page.getByTestId('error-message')).toContainText(refusal);
  await expect(page.getByTestId('error')).toContainText('Qwen2ForCausalLM'); // the help names the families too
  // Refused from config.json: no weight was fetched.
  expect(env.hub.requests.filter((r) => r.path.includes(repo) && r.path.includes('safetensors'))).toEqual([]);
});
