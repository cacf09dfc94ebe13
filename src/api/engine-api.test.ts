/**
 * The OpenAI-shaped client over a scripted backend (no GPU): the objects and chunks it answers
 * with, the per-model queue (order, bound, abort while waiting), and how a stopped answer ends.
 */
import { describe, expect, it } from 'vitest';
import type { GenerationDone, GenerationSettings } from '../chat/engine';
import type { GeneratedToken } from '../chat/token-text';
import type { EngineBackend, GenerateCall } from './backend';
import { EngineApi } from './engine-api';
import { ApiError } from './errors';
import type { GenerationInput } from './validate';

const token = (text: string, logprob = -0.5): GeneratedToken => ({
  id: text.length,
  text,
  bytes: [...new TextEncoder().encode(text)],
  logprob,
  top: [
    { id: 1, text, bytes: [...new TextEncoder().encode(text)], logprob },
    { id: 2, text: 'x', bytes: [120], logprob: -3 },
  ],
});

/** Answers each request with `pieces`, one per timer turn; records what it was asked. */
class ScriptedBackend implements EngineBackend {
  readonly calls: { model: string; input: GenerationInput; settings: GenerationSettings }[] = [];
  readonly order: string[] = [];
  /** Resolves the running generation early (to hold one open). */
  hold: Promise<void> | undefined;

  constructor(private readonly pieces = ['안녕', '하세요', '!']) {}

  async generate(model: string, input: GenerationInput, settings: GenerationSettings, call: GenerateCall): Promise<GenerationDone> {
    this.calls.push({ model, input, settings });
    const label = 'messages' in input ? input.messages.at(-1)!.content : String(input.prompt);
    this.order.push(`start ${label}`);
    let text = '';
    let finishReason: GenerationDone['finishReason'] = 'eos';
    for (const piece of this.pieces) {
      await new Promise((resolve) => setTimeout(resolve, 1));
      if (this.hold) await this.hold;
      if (call.signal?.aborted) {
        finishReason = 'cancelled';
        break;
      }
      text += piece;
      call.onText?.(piece, [token(piece)]);
    }
    this.order.push(`end ${label}`);
    const ids = [...this.pieces.map((_, i) => 100 + i), 2];
    return { ids, text, finishReason, stats: { promptTokens: 7, prefilledTokens: 7, newTokens: ids.length, prefillTokensPerSecond: 1, decodeTokensPerSecond: 1, contextLength: 64, droppedTurns: 0 } };
  }
}

const MODELS = [{ id: 'org/scripted', created: 1700000000 }];
const api = (backend: EngineBackend, options: { maxQueue?: number; modelOptional?: boolean } = {}) => new EngineApi(backend, { models: () => MODELS, ...options });
const ask = (content: string) => ({ model: 'org/scripted', messages: [{ role: 'user' as const, content }] });

async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const chunks: T[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

describe('EngineApi', () => {
  it('chat.completions.create answers one chat.completion with usage and logprobs', async () => {
    const backend = new ScriptedBackend();
    const completion = await api(backend).chat.completions.create({ ...ask('hi'), logprobs: true, top_logprobs: 2, seed: 5, stop: 'END', temperature: 0 });
    expect(completion).toMatchObject({
      object: 'chat.completion',
      model: 'org/scripted',
      choices: [{ index: 0, message: { role: 'assistant', content: '안녕하세요!' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 },
    });
    expect(completion.id).toMatch(/^chatcmpl-/);
    const content = completion.choices[0].logprobs!.content!;
    expect(content.map((entry) => entry.token)).toEqual(['안녕', '하세요', '!']);
    expect(content[0]).toEqual({ token: '안녕', logprob: -0.5, bytes: [...new TextEncoder().encode('안녕')], top_logprobs: [
      { token: '안녕', logprob: -0.5, bytes: [...new TextEncoder().encode('안녕')] },
      { token: 'x', logprob: -3, bytes: [120] },
    ] });
    expect(backend.calls[0].settings).toMatchObject({ seed: 5, stop: ['END'], temperature: 0, logprobs: true, template: 'auto' });
  });

  it('stream: true yields the role, each piece, the finish reason, then usage when asked', async () => {
    const stream = await api(new ScriptedBackend()).chat.completions.create({ ...ask('hi'), stream: true, stream_options: { include_usage: true } });
    const chunks = await collect(stream);
    expect(chunks.every((chunk) => chunk.object === 'chat.completion.chunk' && chunk.id === chunks[0].id)).toBe(true);
    expect(chunks.map((chunk) => chunk.choices[0]?.delta)).toEqual([{ role: 'assistant', content: '' }, { content: '안녕' }, { content: '하세요' }, { content: '!' }, {}, undefined]);
    expect(chunks.map((chunk) => chunk.choices[0]?.finish_reason ?? null)).toEqual([null, null, null, null, 'stop', null]);
    expect(chunks.slice(0, -1).every((chunk) => chunk.usage === null && chunk.choices[0].logprobs === null)).toBe(true);
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 } });
  });

  it('completions: text_completion whole and streamed, echo, legacy logprobs with offsets', async () => {
    const engine = api(new ScriptedBackend());
    const whole = await engine.completions.create({ model: 'org/scripted', prompt: 'Q: ', echo: true, max_tokens: 5 });
    expect(whole).toMatchObject({ object: 'text_completion', choices: [{ text: 'Q: 안녕하세요!', index: 0, logprobs: null, finish_reason: 'stop' }] });
    const scored = await engine.completions.create({ model: 'org/scripted', prompt: [1, 2, 3], logprobs: 1 });
    expect(scored.choices[0].logprobs).toEqual({
      tokens: ['안녕', '하세요', '!'],
      token_logprobs: [-0.5, -0.5, -0.5],
      top_logprobs: [{ 안녕: -0.5 }, { 하세요: -0.5 }, { '!': -0.5 }],
      text_offset: [0, 2, 5],
    });
    const chunks = await collect(await engine.completions.create({ model: 'org/scripted', prompt: 'Q: ', stream: true, echo: true }));
    expect(chunks.map((chunk) => chunk.choices[0].text)).toEqual(['Q: ', '안녕', '하세요', '!', '']);
    expect(chunks.at(-1)!.choices[0].finish_reason).toBe('stop');
  });

  it('requests to one model run one at a time in arrival order; a full queue answers 429', async () => {
    const backend = new ScriptedBackend();
    const engine = api(backend, { maxQueue: 2 });
    const answers = ['a', 'b', 'c'].map((label) => engine.chat.completions.create(ask(label)));
    await expect(engine.chat.completions.create(ask('d'))).rejects.toMatchObject({ status: 429, type: 'rate_limit_error', code: 'queue_full' });
    expect(engine.queueState('org/scripted')).toEqual({ busy: true, queued: 2 });
    await Promise.all(answers);
    expect(backend.order).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
    await engine.idle();
    expect(engine.queueState('org/scripted')).toEqual({ busy: false, queued: 0 });
  });

  it('abort: a waiting request leaves the queue; a running one stops at once; break stops it too', async () => {
    const backend = new ScriptedBackend(['1', '2', '3', '4', '5', '6']);
    const engine = api(backend);
    const running = new AbortController();
    const waiting = new AbortController();
    const first = await engine.chat.completions.create({ ...ask('first'), stream: true }, { signal: running.signal });
    const second = engine.chat.completions.create(ask('second'), { signal: waiting.signal });
    const third = engine.chat.completions.create(ask('third'));
    waiting.abort();
    await expect(second).rejects.toMatchObject({ name: 'AbortError' });
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const chunk of first) {
          seen.push(chunk.choices[0].delta.content ?? '');
          if (seen.length === 3) running.abort();
        }
      })(),
    ).rejects.toMatchObject({ name: 'AbortError' });
    expect(seen.length).toBeLessThan(6);
    expect((await third).choices[0].message.content).toBe('123456');
    expect(backend.order).toEqual(['start first', 'end first', 'start third', 'end third']);

    // Leaving the loop early stops the generation as an abort does.
    const stream = await engine.chat.completions.create({ ...ask('fourth'), stream: true });
    for await (const chunk of stream) if (chunk.choices[0].delta.content) break;
    await engine.idle();
    expect(backend.order.at(-1)).toBe('end fourth');
    await expect(engine.chat.completions.create(ask('x'), { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('generate (the app) keeps what a stopped answer wrote', async () => {
    const engine = api(new ScriptedBackend(['a', 'b', 'c', 'd']));
    const stop = new AbortController();
    const pieces: string[] = [];
    const done = await engine.generate('org/scripted', { messages: [{ role: 'user', content: 'q' }] }, { temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, seed: 0, maxNewTokens: 9 }, {
      signal: stop.signal,
      onText: (text) => {
        pieces.push(text);
        if (pieces.length === 2) stop.abort();
      },
    });
    expect(done).toMatchObject({ finishReason: 'cancelled', text: 'ab' });
  });

  it('the model: 404 when unknown, required unless the engine has one model and says so', async () => {
    const engine = api(new ScriptedBackend());
    await expect(engine.chat.completions.create({ ...ask('q'), model: 'other/model' })).rejects.toMatchObject({ status: 404, param: 'model', code: 'model_not_found' });
    const { model: _, ...noModel } = ask('q');
    await expect(engine.chat.completions.create(noModel)).rejects.toMatchObject({ status: 400, param: 'model' });
    expect((await api(new ScriptedBackend(), { modelOptional: true }).chat.completions.create(noModel)).model).toBe('org/scripted');
    expect(await engine.models.list()).toEqual({ object: 'list', data: [{ id: 'org/scripted', object: 'model', created: 1700000000, owned_by: 'local' }] });
    await expect(engine.models.retrieve('nope')).rejects.toBeInstanceOf(ApiError);
  });

  it('a backend failure becomes an OpenAI error: context-full is a 400 on the input field', async () => {
    const { EngineError } = await import('../errors');
    const failing: EngineBackend = {
      generate: async () => {
        throw new EngineError('context-full', 'This message is 900 tokens, more than the model\'s context of 512. Shorten it.');
      },
    };
    const engine = api(failing);
    await expect(engine.chat.completions.create(ask('q'))).rejects.toMatchObject({ status: 400, param: 'messages', code: 'context_length_exceeded' });
    const stream = await engine.completions.create({ model: 'org/scripted', prompt: 'p', stream: true });
    await expect(collect(stream)).rejects.toMatchObject({ status: 400, param: 'prompt', code: 'context_length_exceeded' });
  });
});
