/**
 * Generation events as the OpenAI API's objects: `chat.completion` and its chunks,
 * `text_completion` (whole or streamed), usage and logprobs. One Answer per request collects the
 * tokens as they come and says what each streamed piece and the final object look like.
 */
import type { GenerationDone } from '../chat/engine';
import type { GeneratedToken } from '../chat/token-text';
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionTokenLogprob,
  Completion,
  CompletionLogprobs,
  CompletionUsage,
  FinishReason,
} from './types';
import type { ApiRequest } from './validate';

export function newId(prefix: string): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return `${prefix}-${[...bytes].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/** The engine's reasons as OpenAI's: the end of text (EOS, a stop string) or a limit. */
export function finishReason(done: GenerationDone): FinishReason {
  return done.finishReason === 'eos' || done.finishReason === 'stop-string' ? 'stop' : 'length';
}

export function usage(done: GenerationDone): CompletionUsage {
  // The stop id the model sampled is not part of the answer.
  const completion = done.ids.length - (done.finishReason === 'eos' ? 1 : 0);
  return { prompt_tokens: done.stats.promptTokens, completion_tokens: completion, total_tokens: done.stats.promptTokens + completion };
}

function chatLogprobs(tokens: GeneratedToken[], top: number): ChatCompletionTokenLogprob[] {
  return tokens.map((token) => ({
    token: token.text,
    logprob: token.logprob ?? 0,
    bytes: token.bytes,
    top_logprobs: (token.top ?? []).slice(0, top).map((alt) => ({ token: alt.text, logprob: alt.logprob, bytes: alt.bytes })),
  }));
}

/** The legacy shape; `offset`: characters of text before these tokens. */
function completionLogprobs(tokens: GeneratedToken[], top: number, offset: number): CompletionLogprobs {
  const result: CompletionLogprobs = { tokens: [], token_logprobs: [], top_logprobs: [], text_offset: [] };
  for (const token of tokens) {
    result.tokens.push(token.text);
    result.token_logprobs.push(token.logprob ?? 0);
    result.top_logprobs.push(Object.fromEntries((token.top ?? []).slice(0, top).map((alt) => [alt.text, alt.logprob])));
    result.text_offset.push(offset);
    offset += token.text.length;
  }
  return result;
}

/** One request's answer, built up piece by piece. */
export class Answer {
  readonly id: string;
  readonly created = Math.floor(Date.now() / 1000);
  private text = '';
  private readonly tokens: GeneratedToken[] = [];
  /** Characters of the completion's text (echo included) before the next token. */
  private offset = 0;
  private roleSent = false;

  constructor(
    readonly request: ApiRequest,
    readonly model: string,
  ) {
    this.id = newId(request.endpoint === 'chat' ? 'chatcmpl' : 'cmpl');
    this.text = this.echoText();
    this.offset = this.text.length;
  }

  private echoText(): string {
    const { input } = this.request;
    return this.request.echo && 'prompt' in input && typeof input.prompt === 'string' ? input.prompt : '';
  }

  private get wantsLogprobs(): boolean {
    return this.request.settings.logprobs === true;
  }

  /** The chunks one streamed piece of text makes (the first chat piece is led by the role). */
  piece(text: string, tokens: GeneratedToken[]): (ChatCompletionChunk | Completion)[] {
    this.text += text;
    this.tokens.push(...tokens);
    if (this.request.endpoint === 'chat') {
      const chunks = this.roleSent ? [] : [this.chatChunk({ role: 'assistant', content: '' }, null, null)];
      this.roleSent = true;
      const logprobs = this.wantsLogprobs ? { content: chatLogprobs(tokens, this.request.topLogprobs), refusal: null } : null;
      chunks.push(this.chatChunk({ content: text }, logprobs, null));
      return chunks;
    }
    const logprobs = this.wantsLogprobs ? completionLogprobs(tokens, this.request.topLogprobs, this.offset) : null;
    this.offset += tokens.reduce((sum, token) => sum + token.text.length, 0);
    return [this.completionChunk(text, logprobs, null)];
  }

  /** The echoed prompt, streamed first (completions with echo). */
  opening(): Completion[] {
    const echo = this.echoText();
    return echo && this.request.endpoint === 'completions' ? [this.completionChunk(echo, null, null)] : [];
  }

  /** The chunks that end a stream: the finish reason, then usage when asked (stream_options). */
  end(done: GenerationDone): (ChatCompletionChunk | Completion)[] {
    const reason = finishReason(done);
    const chunks: (ChatCompletionChunk | Completion)[] = [];
    if (this.request.endpoint === 'chat') {
      if (!this.roleSent) chunks.push(this.chatChunk({ role: 'assistant', content: '' }, null, null));
      this.roleSent = true;
      chunks.push(this.chatChunk({}, null, reason));
    } else {
      chunks.push(this.completionChunk('', null, reason));
    }
    if (this.request.includeUsage) {
      const last = { ...chunks[chunks.length - 1], choices: [], usage: usage(done) };
      chunks.push(last as ChatCompletionChunk | Completion);
    }
    return chunks;
  }

  /** The whole answer as one object (stream: false). */
  complete(done: GenerationDone): ChatCompletion | Completion {
    const reason = finishReason(done);
    const top = this.request.topLogprobs;
    if (this.request.endpoint === 'chat') {
      return {
        id: this.id,
        object: 'chat.completion',
        created: this.created,
        model: this.model,
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: done.text, refusal: null },
            logprobs: this.wantsLogprobs ? { content: chatLogprobs(this.tokens, top), refusal: null } : null,
            finish_reason: reason,
          },
        ],
        usage: usage(done),
      };
    }
    const echo = this.echoText();
    return {
      id: this.id,
      object: 'text_completion',
      created: this.created,
      model: this.model,
      choices: [{ text: echo + done.text, index: 0, logprobs: this.wantsLogprobs ? completionLogprobs(this.tokens, top, echo.length) : null, finish_reason: reason }],
      usage: usage(done),
    };
  }

  private chatChunk(delta: ChatCompletionChunk['choices'][number]['delta'], logprobs: ChatCompletionChunk['choices'][number]['logprobs'], reason: FinishReason | null): ChatCompletionChunk {
    const chunk: ChatCompletionChunk = { id: this.id, object: 'chat.completion.chunk', created: this.created, model: this.model, choices: [{ index: 0, delta, logprobs, finish_reason: reason }] };
    if (this.request.includeUsage) chunk.usage = null;
    return chunk;
  }

  private completionChunk(text: string, logprobs: CompletionLogprobs | null, reason: FinishReason | null): Completion {
    const chunk: Completion = { id: this.id, object: 'text_completion', created: this.created, model: this.model, choices: [{ text, index: 0, logprobs, finish_reason: reason }] };
    if (this.request.includeUsage) chunk.usage = null;
    return chunk;
  }
}
