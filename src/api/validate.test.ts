/** Request checking: what passes becomes engine settings; what does not is a 400 naming its field. */
import { describe, expect, it } from 'vitest';
import { ApiError } from './errors';
import { parseChatRequest, parseCompletionRequest } from './validate';

const chat = (extra: Record<string, unknown> = {}) => ({ model: 'm', messages: [{ role: 'user', content: '안녕' }], ...extra });

function rejection(parse: () => unknown): ApiError {
  try {
    parse();
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    return error as ApiError;
  }
  throw new Error('expected a rejection');
}

describe('parseChatRequest', () => {
  it('maps OpenAI fields onto the engine settings', () => {
    const parsed = parseChatRequest(
      chat({
        messages: [
          { role: 'developer', content: 'Be brief.' },
          { role: 'user', content: [{ type: 'text', text: '하와이 ' }, { type: 'text', text: '여행' }] },
          { role: 'assistant', content: '네' },
          { role: 'user', content: '더', name: 'kim' },
        ],
        max_completion_tokens: 32,
        temperature: 0.7,
        top_p: 0.9,
        top_k: 40,
        seed: -1,
        stop: ['\n\n', 'USER:'],
        logprobs: true,
        top_logprobs: 3,
        stream: true,
        stream_options: { include_usage: true },
        user: 'ignored',
        metadata: { also: 'ignored' },
      }),
    );
    expect(parsed.input).toEqual({
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: '하와이 여행' },
        { role: 'assistant', content: '네' },
        { role: 'user', content: '더' },
      ],
    });
    expect(parsed.settings).toEqual({ maxNewTokens: 32, temperature: 0.7, topP: 0.9, topK: 40, repetitionPenalty: 1, seed: 2 ** 32 - 1, stop: ['\n\n', 'USER:'], template: 'auto', logprobs: true });
    expect(parsed).toMatchObject({ endpoint: 'chat', model: 'm', topLogprobs: 3, stream: true, includeUsage: true });
  });

  it('defaults: OpenAI temperature 1, to the end of the context, a fresh seed each request', () => {
    const a = parseChatRequest(chat());
    const b = parseChatRequest(chat());
    expect(a.settings).toMatchObject({ temperature: 1, topP: 1, topK: 0, repetitionPenalty: 1, maxNewTokens: Number.MAX_SAFE_INTEGER, stop: [], logprobs: false });
    expect(a.settings.seed).not.toBe(b.settings.seed);
    expect(a).toMatchObject({ stream: false, includeUsage: false, topLogprobs: 0 });
  });

  it('penalties: repetition_penalty as is, else presence + frequency as a factor', () => {
    expect(parseChatRequest(chat({ repetition_penalty: 1.3, frequency_penalty: 2 })).settings.repetitionPenalty).toBe(1.3);
    expect(parseChatRequest(chat({ frequency_penalty: 0.5 })).settings.repetitionPenalty).toBe(1.5);
    expect(parseChatRequest(chat({ presence_penalty: -1 })).settings.repetitionPenalty).toBe(0.5);
    expect(parseChatRequest(chat({ top_p: 0 })).settings).toMatchObject({ topK: 1, topP: 1 });
  });

  it.each([
    [{ messages: undefined }, 'messages', 'missing_required_parameter'],
    [{ messages: 'hi' }, 'messages', 'invalid_type'],
    [{ messages: [] }, 'messages', 'invalid_value'],
    [{ messages: [{ role: 'wizard', content: 'x' }] }, 'messages[0].role', 'invalid_value'],
    [{ messages: [{ content: 'x' }] }, 'messages[0].role', 'missing_required_parameter'],
    [{ messages: [{ role: 'user', content: 5 }] }, 'messages[0].content', 'invalid_type'],
    [{ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: {} }] }] }, 'messages[0].content[0].type', 'invalid_value'],
    [{ messages: [{ role: 'tool', content: 'x' }] }, 'messages[0].role', 'unsupported_parameter'],
    [{ model: 7 }, 'model', 'invalid_type'],
    [{ temperature: 3 }, 'temperature', 'invalid_value'],
    [{ temperature: '0.5' }, 'temperature', 'invalid_type'],
    [{ top_p: 1.5 }, 'top_p', 'invalid_value'],
    [{ max_tokens: 0 }, 'max_tokens', 'invalid_value'],
    [{ max_tokens: 2.5 }, 'max_tokens', 'invalid_value'],
    [{ seed: 'x' }, 'seed', 'invalid_type'],
    [{ stop: 5 }, 'stop', 'invalid_type'],
    [{ stop: ['a', ''] }, 'stop[1]', 'invalid_value'],
    [{ n: 2 }, 'n', 'unsupported_value'],
    [{ stream: 'yes' }, 'stream', 'invalid_type'],
    [{ stream_options: { include_usage: true } }, 'stream_options', 'invalid_value'],
    [{ logprobs: 1 }, 'logprobs', 'invalid_type'],
    [{ top_logprobs: 2 }, 'top_logprobs', 'invalid_value'],
    [{ logprobs: true, top_logprobs: 6 }, 'top_logprobs', 'invalid_value'],
    [{ tools: [{ type: 'function', function: { name: 'f' } }] }, 'tools', 'unsupported_parameter'],
    [{ tool_choice: 'auto' }, 'tool_choice', 'unsupported_parameter'],
    [{ response_format: { type: 'json_object' } }, 'response_format', 'unsupported_parameter'],
    [{ logit_bias: { '5': 10 } }, 'logit_bias', 'unsupported_parameter'],
  ])('%j is a 400 on %s', (extra, param, code) => {
    const error = rejection(() => parseChatRequest(chat(extra)));
    expect(error).toMatchObject({ status: 400, type: 'invalid_request_error', param, code });
    expect(error.message).toContain(param.replace(/\[.*$/, ''));
    expect(error.toJSON()).toEqual({ error: { message: error.message, type: 'invalid_request_error', param, code } });
  });

  it('a body that is not an object', () => {
    expect(rejection(() => parseChatRequest([1]))).toMatchObject({ status: 400, param: null });
  });
});

describe('parseCompletionRequest', () => {
  it('a prompt as text or ids; legacy logprobs; max_tokens defaults to 16', () => {
    expect(parseCompletionRequest({ model: 'm', prompt: 'Once' })).toMatchObject({ input: { prompt: 'Once' }, settings: { maxNewTokens: 16, template: 'raw', logprobs: false }, topLogprobs: 0 });
    expect(parseCompletionRequest({ model: 'm', prompt: [[1, 2]], logprobs: 2 })).toMatchObject({ input: { prompt: [1, 2] }, settings: { logprobs: true }, topLogprobs: 2 });
    expect(parseCompletionRequest({ model: 'm', prompt: ['x'], echo: true })).toMatchObject({ input: { prompt: 'x' }, echo: true });
  });

  it.each([
    [{}, 'prompt', 'missing_required_parameter'],
    [{ prompt: ['a', 'b'] }, 'prompt', 'invalid_value'],
    [{ prompt: [1, -2] }, 'prompt[1]', 'invalid_type'],
    [{ prompt: 'x', logprobs: 6 }, 'logprobs', 'invalid_value'],
    [{ prompt: 'x', suffix: 'y' }, 'suffix', 'unsupported_parameter'],
    [{ prompt: 'x', best_of: 3 }, 'best_of', 'unsupported_value'],
  ])('%j is a 400 on %s', (body, param, code) => {
    expect(rejection(() => parseCompletionRequest({ model: 'm', ...body }))).toMatchObject({ status: 400, param, code });
  });
});
