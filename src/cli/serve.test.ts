/**
 * `serve` as users run it (`npm run -s cli -- serve ...`), with the official `openai` package as
 * the client: the scripted model (whose answers are known Korean texts) and a tiny random one
 * (answers as long as asked, to stop mid-stream), on one server for the whole file.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import OpenAI, { APIError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildScriptedModel, CODE_ANSWER, DEFAULT_ANSWER, KOREAN_ANSWER, XSS_ANSWER } from '../model/scripted-model';
import { llamaTokenizerModel, writeTinyModel } from '../model/tiny-model-node';
import { startServe, type CliResult, type RunningServe } from './testing';

const KEY = 'sk-local-test';
const SCRIPTED = 'scripted';
const RANDOM = 'tiny-random';
/** One model answers at a time: up to this many more wait, the next is refused. */
const MAX_QUEUE = 7;
const MAX_BODY = 64 * 1024;

let dir: string;
let url: string;
let server: RunningServe;
let client: OpenAI;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'serve-test-'));
  const scripted = buildScriptedModel(await llamaTokenizerModel());
  await mkdir(path.join(dir, SCRIPTED));
  for (const [name, bytes] of scripted.files) await writeFile(path.join(dir, SCRIPTED, name), bytes);
  await writeTinyModel(path.join(dir, RANDOM), { hiddenSize: 64, intermediateSize: 128, numLayers: 2, numHeads: 4, numKvHeads: 2, dtype: 'F16', format: 'safetensors', shards: 1, seed: 5, maxPositions: 1024 });
  server = await startServe(
    ['--model', path.join(dir, SCRIPTED), '--model', path.join(dir, RANDOM), '--port', '0', '--api-key', KEY, '--max-queue', String(MAX_QUEUE), '--max-body-bytes', String(MAX_BODY), '--context-length', '1024'],
    { XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' },
  );
  url = server.url;
  client = new OpenAI({ baseURL: `${url}/v1`, apiKey: KEY, maxRetries: 0 });
}, 300_000);

afterAll(async () => {
  if (server && server.child.exitCode === null) server.child.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

const ask = (content: string, extra: Partial<OpenAI.ChatCompletionCreateParamsNonStreaming> = {}) => ({ model: SCRIPTED, messages: [{ role: 'user' as const, content }], ...extra });

/** Text that is whole UTF-8: no replacement character, no lone surrogate, the same after a round trip. */
function wholeUtf8(text: string): boolean {
  const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
  return !text.includes('\uFFFD') && !loneSurrogate.test(text) && Buffer.from(text, 'utf8').toString('utf8') === text;
}

async function raw(route: string, init: RequestInit & { key?: string | null } = {}): Promise<Response> {
  const { key = KEY, ...rest } = init;
  const headers = new Headers(rest.headers);
  if (key !== null) headers.set('Authorization', `Bearer ${key}`);
  if (rest.body !== undefined) headers.set('Content-Type', 'application/json');
  return fetch(`${url}${route}`, { ...rest, headers });
}

/** A status and its body in OpenAI's error shape. */
async function expectError(response: Response, status: number, param: string | null, code: string): Promise<void> {
  expect(response.status).toBe(status);
  const body = (await response.json()) as { error: Record<string, unknown> };
  expect(Object.keys(body)).toEqual(['error']);
  expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'param', 'type']);
  expect(body.error).toMatchObject({ param, code });
  expect(typeof body.error.message).toBe('string');
  expect(typeof body.error.type).toBe('string');
}

async function health(): Promise<{ status: string; models: { id: string; state: string; busy: boolean; queued: number }[] }> {
  return (await raw('/health', { key: null })).json() as never;
}

async function waitFor(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let tries = 0; tries < 600; tries++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('serve', () => {
  it('lists the models and says they are up', async () => {
    const models = await client.models.list();
    expect(models.data.map((model) => model.id)).toEqual([SCRIPTED, RANDOM]);
    expect(models.data[0]).toMatchObject({ object: 'model', owned_by: 'local' });
    expect((await client.models.retrieve(RANDOM)).id).toBe(RANDOM);
    const up = await health();
    expect(up.status).toBe('ok');
    expect(up.models.map((model) => [model.id, model.state, model.busy, model.queued])).toEqual([
      [SCRIPTED, 'ready', false, 0],
      [RANDOM, 'ready', false, 0],
    ]);
    expect(server.stderr()).toMatch(/loading .*scripted \(1 of 2\)/);
  });

  it('chat: the Korean answer exactly, whole and streamed, no delta with broken UTF-8', async () => {
    const completion = await client.chat.completions.create(ask('say hello'));
    expect(completion.object).toBe('chat.completion');
    expect(completion.model).toBe(SCRIPTED);
    expect(completion.choices[0].message).toMatchObject({ role: 'assistant', content: KOREAN_ANSWER });
    expect(completion.choices[0].finish_reason).toBe('stop');
    expect(completion.usage).toMatchObject({ completion_tokens: 1 });
    expect(completion.usage!.total_tokens).toBe(completion.usage!.prompt_tokens + 1);

    const stream = await client.chat.completions.create({ ...ask('say hello'), stream: true, stream_options: { include_usage: true } });
    const deltas: string[] = [];
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      expect(chunk.object).toBe('chat.completion.chunk');
      const choice = chunk.choices[0];
      if (choice?.delta.content) deltas.push(choice.delta.content);
      finish = choice?.finish_reason ?? finish;
      usage = chunk.usage ?? usage;
    }
    expect(deltas.join('')).toBe(KOREAN_ANSWER);
    expect(deltas.every(wholeUtf8)).toBe(true);
    expect(finish).toBe('stop');
    expect(usage).toEqual(completion.usage);
  });

  it('streams server-sent events: data lines, then data: [DONE]', async () => {
    const response = await raw('/v1/chat/completions', { method: 'POST', body: JSON.stringify({ ...ask('show code'), stream: true }) });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = (await response.text()).split('\n\n').filter((event) => event !== '');
    expect(events.every((event) => event.startsWith('data: '))).toBe(true);
    expect(events.at(-1)).toBe('data: [DONE]');
    const chunks = events.slice(0, -1).map((event) => JSON.parse(event.slice(6)) as OpenAI.ChatCompletionChunk);
    expect(chunks[0].choices[0].delta).toEqual({ role: 'assistant', content: '' });
    expect(chunks.map((chunk) => chunk.choices[0].delta.content ?? '').join('')).toBe(CODE_ANSWER);
  });

  it('completions: a raw prompt, whole and streamed', async () => {
    const completion = await client.completions.create({ model: SCRIPTED, prompt: 'say hello', max_tokens: 8 });
    expect(completion.object).toBe('text_completion');
    expect(completion.choices[0]).toMatchObject({ text: KOREAN_ANSWER, index: 0, finish_reason: 'stop' });
    const stream = await client.completions.create({ model: SCRIPTED, prompt: 'show xss', max_tokens: 8, stream: true });
    const pieces: string[] = [];
    for await (const chunk of stream) pieces.push(chunk.choices[0].text);
    expect(pieces.join('')).toBe(XSS_ANSWER);
    expect(pieces.every(wholeUtf8)).toBe(true);
  });

  it('stop sequences end the answer before them; max_tokens ends it with length', async () => {
    const stopped = await client.chat.completions.create(ask('say hello', { stop: ['never', '**'] }));
    expect(stopped.choices[0]).toMatchObject({ message: { content: KOREAN_ANSWER.slice(0, KOREAN_ANSWER.indexOf('**')) }, finish_reason: 'stop' });
    const short = await client.completions.create({ model: RANDOM, prompt: 'Hello', max_tokens: 3, temperature: 0 });
    expect(short.choices[0].finish_reason).toBe('length');
    expect(short.usage!.completion_tokens).toBe(3);
  });

  it('logprobs: each token with its bytes and the top alternatives asked for', async () => {
    const completion = await client.chat.completions.create(ask('say hello', { logprobs: true, top_logprobs: 3, temperature: 0 }));
    const content = completion.choices[0].logprobs!.content!;
    expect(Buffer.from(content.flatMap((token) => token.bytes!)).toString('utf8')).toBe(KOREAN_ANSWER);
    for (const token of content) {
      expect(token.logprob).toBeLessThanOrEqual(0);
      expect(token.top_logprobs).toHaveLength(3);
      // Greedy: the token is the likeliest; the rest follow in order.
      expect(token.top_logprobs[0].token).toBe(token.token);
      expect(token.top_logprobs[0].logprob).toBeCloseTo(token.logprob, 5);
      expect(token.top_logprobs.every((alt, k) => k === 0 || alt.logprob <= token.top_logprobs[k - 1].logprob)).toBe(true);
    }
    const legacy = await client.completions.create({ model: RANDOM, prompt: '신라의 삼국 통일', max_tokens: 6, temperature: 0, logprobs: 2 });
    const logprobs = legacy.choices[0].logprobs!;
    expect(logprobs.tokens!.length).toBe(legacy.usage!.completion_tokens);
    expect(logprobs.top_logprobs!.every((alternatives) => Object.keys(alternatives).length <= 2)).toBe(true);
    expect(logprobs.text_offset![0]).toBe(0);
  });

  it('eight concurrent requests are all answered exactly', async () => {
    const prompts = ['say hello', 'show code', 'show xss', 'anything else', 'say hello', 'show code', 'show xss', 'what now'];
    const expected = [KOREAN_ANSWER, CODE_ANSWER, XSS_ANSWER, DEFAULT_ANSWER, KOREAN_ANSWER, CODE_ANSWER, XSS_ANSWER, DEFAULT_ANSWER];
    const answers = await Promise.all(
      prompts.map(async (prompt, i) => {
        if (i % 2 === 0) return (await client.chat.completions.create(ask(prompt))).choices[0].message.content;
        let text = '';
        for await (const chunk of await client.chat.completions.create({ ...ask(prompt), stream: true })) text += chunk.choices[0]?.delta.content ?? '';
        return text;
      }),
    );
    expect(answers).toEqual(expected);
  });

  it('a client that stops mid-stream stops its answer at once; the next request is served', async () => {
    const stream = await client.chat.completions.create({ model: RANDOM, messages: [{ role: 'user', content: '이야기를 들려줘' }], max_tokens: 900, stream: true });
    let chunks = 0;
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.content) chunks++;
      if (chunks === 3) stream.controller.abort();
    }
    expect(chunks).toBe(3);
    // The model is free long before 900 tokens could have been written.
    await waitFor(async () => !(await health()).models[1].busy, 'the random model to stop');
    expect(server.stderr()).toMatch(/499 \(client closed the connection\)/);
    const next = await client.chat.completions.create(ask('say hello'));
    expect(next.choices[0].message.content).toBe(KOREAN_ANSWER);
    const after = await client.completions.create({ model: RANDOM, prompt: 'Hello', max_tokens: 4, temperature: 0 });
    expect(after.usage!.completion_tokens).toBeGreaterThan(0);
  });

  it('errors: 400, 401, 404, 413 and 429, each in OpenAI\'s shape', async () => {
    // 400: invalid JSON, a missing field, an ill-typed field, an unknown role.
    await expectError(await raw('/v1/chat/completions', { method: 'POST', body: '{"model": "scripted", "messages": [' }), 400, null, 'invalid_json');
    await expectError(await raw('/v1/chat/completions', { method: 'POST', body: JSON.stringify({ model: SCRIPTED }) }), 400, 'messages', 'missing_required_parameter');
    await expectError(await raw('/v1/chat/completions', { method: 'POST', body: JSON.stringify({ ...ask('x'), max_tokens: 'many' }) }), 400, 'max_tokens', 'invalid_type');
    await expectError(await raw('/v1/completions', { method: 'POST', body: JSON.stringify({ model: SCRIPTED }) }), 400, 'prompt', 'missing_required_parameter');
    const unknownRole = await client.chat.completions.create({ model: SCRIPTED, messages: [{ role: 'wizard', content: 'x' }] as never }).catch((error: unknown) => error);
    expect(unknownRole).toBeInstanceOf(OpenAI.BadRequestError);
    expect((unknownRole as APIError).error).toMatchObject({ param: 'messages[0].role', type: 'invalid_request_error' });
    // 401: a wrong key, or none.
    const wrongKey = await new OpenAI({ baseURL: `${url}/v1`, apiKey: 'sk-wrong', maxRetries: 0 }).models.list().catch((error: unknown) => error);
    expect(wrongKey).toBeInstanceOf(OpenAI.AuthenticationError);
    await expectError(await raw('/v1/models', { key: null }), 401, null, 'invalid_api_key');
    // 404: an unknown model (and route).
    const unknownModel = await client.chat.completions.create(ask('x', { model: 'org/unknown' })).catch((error: unknown) => error);
    expect(unknownModel).toBeInstanceOf(OpenAI.NotFoundError);
    expect((unknownModel as APIError).error).toMatchObject({ param: 'model', code: 'model_not_found' });
    await expectError(await raw('/v1/embeddings', { method: 'POST', body: '{}' }), 404, null, 'unknown_url');
    // 413: a body past the limit, refused from its Content-Length before it is read.
    const huge = await client.chat.completions.create(ask('가'.repeat(MAX_BODY))).catch((error: unknown) => error);
    expect(huge).toBeInstanceOf(APIError);
    expect((huge as APIError).status).toBe(413);
    expect((huge as APIError).error).toMatchObject({ code: 'request_too_large' });
    // ... and one sent in chunks with no Content-Length, refused as its bytes pass the limit.
    const chunked = new ReadableStream<Uint8Array>({
      start(controller) {
        const part = new TextEncoder().encode(' '.repeat(16 * 1024));
        for (let i = 0; i < 8; i++) controller.enqueue(part);
        controller.close();
      },
    });
    await expectError(await raw('/v1/chat/completions', { method: 'POST', body: chunked, duplex: 'half' } as RequestInit), 413, null, 'request_too_large');
    expect((await client.chat.completions.create(ask('say hello'))).choices[0].message.content).toBe(KOREAN_ANSWER);
  });

  it('a full queue answers 429; those already waiting are still served in order', async () => {
    const hold = new AbortController();
    const long = await client.chat.completions.create({ model: RANDOM, messages: [{ role: 'user', content: 'long' }], max_tokens: 900, stream: true }, { signal: hold.signal });
    const reading = (async () => {
      for await (const _ of long);
    })();
    await waitFor(async () => (await health()).models[1].busy, 'the long answer to start');
    const waiting = Array.from({ length: MAX_QUEUE }, (_, i) => client.completions.create({ model: RANDOM, prompt: `question ${i}`, max_tokens: 2, temperature: 0 }));
    await waitFor(async () => (await health()).models[1].queued === MAX_QUEUE, 'the queue to fill');
    const refused = await client.completions.create({ model: RANDOM, prompt: 'one too many', max_tokens: 2 }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(OpenAI.RateLimitError);
    expect((refused as APIError).error).toMatchObject({ type: 'rate_limit_error', code: 'queue_full' });
    // Another model has a queue of its own.
    expect((await client.chat.completions.create(ask('say hello'))).choices[0].message.content).toBe(KOREAN_ANSWER);
    hold.abort();
    await reading.catch(() => undefined);
    const answered = await Promise.all(waiting);
    expect(answered.every((answer) => answer.object === 'text_completion' && answer.choices[0].finish_reason !== null)).toBe(true);
  });

  it('answers CORS preflights and marks responses for browser pages', async () => {
    const preflight = await fetch(`${url}/v1/chat/completions`, {
      method: 'OPTIONS',
      headers: { Origin: 'http://page.example', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization, content-type, x-stainless-os' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('http://page.example');
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');
    expect(preflight.headers.get('access-control-allow-headers')).toContain('authorization');
    const listed = await raw('/v1/models', { headers: { Origin: 'http://page.example' } });
    expect(listed.headers.get('access-control-allow-origin')).toBe('http://page.example');
  });

  it('Ctrl-C drains: the answer in progress finishes, then the server exits', async () => {
    const stream = await client.chat.completions.create({ model: RANDOM, messages: [{ role: 'user', content: 'last' }], max_tokens: 40, temperature: 0, stream: true });
    const reading = (async () => {
      let finish: string | null = null;
      for await (const chunk of stream) finish = chunk.choices[0]?.finish_reason ?? finish;
      return finish;
    })();
    await waitFor(async () => (await health()).models[1].busy, 'the answer to start');
    server.child.kill('SIGINT');
    expect(await reading).toBe('length');
    const exit: CliResult = await server.result;
    expect(exit.code).toBe(0);
    expect(exit.stderr).toContain('draining');
    await expect(fetch(`${url}/health`)).rejects.toThrow();
  });
});
