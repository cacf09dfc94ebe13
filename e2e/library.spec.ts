/**
 * The engine library (dist/lib/engine.js, written by `npm run build`) in a page of its own that
 * is not the app: the README's ten-line page, served from a plain static server with the built
 * lib/ folder copied beside it, loading the scripted model from the fake hub.
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CODE_ANSWER, KOREAN_ANSWER } from '../src/model/scripted-model';
import { REPO_ROOT } from '../src/model/tiny-model-node';
import { expect, REPOS, test } from './fixtures';
import { serveStatic } from './static-server';

test('a plain page imports the library, streams the exact Korean answer, and uses the OpenAI API shape', async ({ page, env }) => {
  const folder = await mkdtemp(path.join(tmpdir(), 'e2e-library-page-'));
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  try {
    await cp(path.join(REPO_ROOT, 'e2e/library-page'), folder, { recursive: true });
    await cp(path.join(REPO_ROOT, 'dist/lib'), path.join(folder, 'lib'), { recursive: true });
    const site = await serveStatic(folder);
    try {
      const query = new URLSearchParams({ model: REPOS.scripted, hub: env.hub.url, q: 'say hello' });
      await page.goto(`${site.url}/?${query}`);
      await page.waitForFunction(() => (window as unknown as { answered?: boolean }).answered === true, undefined, { timeout: 150_000 });
      expect(await page.locator('#answer').textContent()).toBe(KOREAN_ANSWER);

      const results = await page.evaluate(async () => {
        type Api = {
          chat: { completions: { create(request: object, options?: { signal?: AbortSignal }): Promise<any> } };
          completions: { create(request: object): Promise<any> };
          models: { list(): Promise<any> };
          unload(): Promise<void>;
          model: string;
          info: { dtype: string; contextLength: number };
        };
        const engine = (window as unknown as { engine: Api }).engine;
        const ask = (content: string, extra: object = {}) => ({ messages: [{ role: 'user', content }], ...extra });
        const failure = async (promise: Promise<unknown>) =>
          promise.then(
            () => 'no error',
            (error: { name: string; status?: number; param?: string; code?: string }) => ({ name: error.name, status: error.status, param: error.param, code: error.code }),
          );

        const whole = await engine.chat.completions.create(ask('show code', { model: engine.model, temperature: 0, logprobs: true, top_logprobs: 2 }));
        const deltas: string[] = [];
        const chunks: string[] = [];
        for await (const chunk of await engine.chat.completions.create(ask('say hello', { stream: true, stream_options: { include_usage: true } }))) {
          chunks.push(chunk.object);
          if (chunk.choices[0]?.delta.content) deltas.push(chunk.choices[0].delta.content);
        }
        const completion = await engine.completions.create({ prompt: 'say hello', max_tokens: 4 });
        // Aborted while it waits for the model (a request ahead of it holds it): an AbortError,
        // then the next request is answered.
        const ahead = engine.chat.completions.create(ask('show code'));
        const stop = new AbortController();
        const aborted = failure(engine.chat.completions.create(ask('say hello'), { signal: stop.signal }));
        stop.abort();
        const abortedResult = await aborted;
        await ahead;
        const after = await engine.chat.completions.create(ask('say hello'));
        const badRole = await failure(engine.chat.completions.create({ messages: [{ role: 'wizard', content: 'x' }] }));
        const unknownModel = await failure(engine.chat.completions.create(ask('x', { model: 'org/other' })));
        const models = await engine.models.list();
        await engine.unload();
        const afterUnload = await failure(engine.chat.completions.create(ask('say hello')));
        return { whole, deltas, chunks, completion, abortedResult, after: after.choices[0].message.content, badRole, unknownModel, models, afterUnload, info: engine.info };
      });

      expect(results.whole).toMatchObject({ object: 'chat.completion', model: REPOS.scripted, choices: [{ message: { role: 'assistant', content: CODE_ANSWER }, finish_reason: 'stop' }] });
      const logprobs = results.whole.choices[0].logprobs.content as { bytes: number[]; top_logprobs: unknown[] }[];
      expect(Buffer.from(logprobs.flatMap((token) => token.bytes)).toString('utf8')).toBe(CODE_ANSWER);
      expect(logprobs.every((token) => token.top_logprobs.length === 2)).toBe(true);
      expect(results.deltas.join('')).toBe(KOREAN_ANSWER);
      expect(results.deltas.every((delta) => !delta.includes('\uFFFD'))).toBe(true);
      expect(new Set(results.chunks)).toEqual(new Set(['chat.completion.chunk']));
      expect(results.completion).toMatchObject({ object: 'text_completion', choices: [{ text: KOREAN_ANSWER, finish_reason: 'stop' }] });
      expect(results.abortedResult).toMatchObject({ name: 'AbortError' });
      expect(results.after).toBe(KOREAN_ANSWER);
      expect(results.badRole).toMatchObject({ name: 'ApiError', status: 400, param: 'messages[0].role' });
      expect(results.unknownModel).toMatchObject({ name: 'ApiError', status: 404, code: 'model_not_found' });
      expect(results.models.data.map((model: { id: string }) => model.id)).toEqual([REPOS.scripted]);
      expect(results.afterUnload).toMatchObject({ status: 404 });
      expect(results.info).toMatchObject({ dtype: 'q4', contextLength: 512 });
      expect(errors).toEqual([]);
    } finally {
      await site.close();
    }
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
});
