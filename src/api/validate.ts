/**
 * Checks a request body (untyped JSON) against the OpenAI API's contract and turns it into what
 * the engine runs: a 400 names the first field that is missing, of the wrong type or out of
 * range (`param`, as OpenAI's errors do: `messages[2].role`). Fields this engine cannot honour
 * (tools, JSON mode, logit_bias, n > 1) are refused by name rather than ignored; fields that
 * change nothing here (user, metadata, store...) are accepted and ignored.
 */
import type { GenerationSettings } from '../chat/engine';
import type { ChatMessage } from '../chat/template';
import { TOP_LOGPROBS } from '../gpu/ops';
import { invalidRequest } from './errors';

/** What the model continues: a conversation (its chat template applies) or a raw prompt. */
export type GenerationInput = { messages: ChatMessage[] } | { prompt: string | number[] };

export interface ApiRequest {
  endpoint: 'chat' | 'completions';
  /** Absent: the engine's only model (the library), else a 400 (serve requires it). */
  model?: string;
  input: GenerationInput;
  settings: GenerationSettings;
  /** Alternatives each token lists (0 .. TOP_LOGPROBS); tokens are scored when settings.logprobs. */
  topLogprobs: number;
  stream: boolean;
  includeUsage: boolean;
  /** Completions: the prompt's text leads the answer's. */
  echo: boolean;
}

type Json = Record<string, unknown>;

/** Completions' default max_tokens (OpenAI's); chat answers run to the context's end unless told. */
const COMPLETION_MAX_TOKENS = 16;
/** More stop strings than OpenAI's 4, but bounded: each is searched for after every token. */
const MAX_STOP = 16;

const ROLES: Record<string, ChatMessage['role']> = { system: 'system', developer: 'system', user: 'user', assistant: 'assistant' };

function typeName(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A field that may be absent or null; present, it must pass `check`. */
function optional<T>(body: Json, field: string, check: (value: unknown, field: string) => T): T | undefined {
  const value = body[field];
  return value === undefined || value === null ? undefined : check(value, field);
}

function number(min: number, max: number, { integer = false, minExclusive = false } = {}) {
  return (value: unknown, field: string): number => {
    const what = `${integer ? 'an integer' : 'a number'} ${minExclusive ? `greater than ${min}` : `from ${min}`}${Number.isFinite(max) ? ` to ${max}` : ''}`;
    if (typeof value !== 'number' || !Number.isFinite(value)) throw invalidRequest(`'${field}' must be ${what}, got ${typeName(value)}.`, field, 'invalid_type');
    if ((integer && !Number.isInteger(value)) || value < min || (minExclusive && value === min) || value > max) {
      throw invalidRequest(`'${field}' must be ${what}, got ${value}.`, field, 'invalid_value');
    }
    return value;
  };
}

function boolean(value: unknown, field: string): boolean {
  if (typeof value !== 'boolean') throw invalidRequest(`'${field}' must be a boolean, got ${typeName(value)}.`, field, 'invalid_type');
  return value;
}

function string(value: unknown, field: string): string {
  if (typeof value !== 'string') throw invalidRequest(`'${field}' must be a string, got ${typeName(value)}.`, field, 'invalid_type');
  return value;
}

function unsupported(field: string, what: string): never {
  throw invalidRequest(`'${field}' is not supported: this engine has no ${what} yet.`, field, 'unsupported_parameter');
}

/** Fields this engine would have to get wrong to accept. */
function refuseUnsupported(body: Json): void {
  for (const field of ['tools', 'functions']) {
    const value = body[field];
    if (value !== undefined && value !== null && !(Array.isArray(value) && value.length === 0)) unsupported(field, 'tool calling');
  }
  for (const field of ['tool_choice', 'function_call']) {
    const value = body[field];
    if (value !== undefined && value !== null && value !== 'none') unsupported(field, 'tool calling');
  }
  const format = body.response_format;
  if (format !== undefined && format !== null && !(isObject(format) && format.type === 'text')) unsupported('response_format', 'JSON mode or structured output');
  const bias = body.logit_bias;
  if (bias !== undefined && bias !== null && !(isObject(bias) && Object.keys(bias).length === 0)) unsupported('logit_bias', 'logit bias');
  const n = optional(body, 'n', number(1, 128, { integer: true }));
  if (n !== undefined && n !== 1) throw invalidRequest(`'n' must be 1: this engine writes one answer per request.`, 'n', 'unsupported_value');
  const bestOf = optional(body, 'best_of', number(1, 20, { integer: true }));
  if (bestOf !== undefined && bestOf !== 1) throw invalidRequest(`'best_of' must be 1: this engine writes one answer per request.`, 'best_of', 'unsupported_value');
  if (body.suffix !== undefined && body.suffix !== null && body.suffix !== '') unsupported('suffix', 'infilling');
}

function stopStrings(body: Json): string[] {
  const value = body.stop;
  if (value === undefined || value === null) return [];
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list)) throw invalidRequest(`'stop' must be a string or an array of strings, got ${typeName(value)}.`, 'stop', 'invalid_type');
  if (list.length > MAX_STOP) throw invalidRequest(`'stop' takes at most ${MAX_STOP} strings, got ${list.length}.`, 'stop', 'invalid_value');
  return list.map((item, i) => {
    const field = typeof value === 'string' ? 'stop' : `stop[${i}]`;
    if (string(item, field) === '') throw invalidRequest(`'${field}' is empty: a stop string needs at least one character.`, field, 'invalid_value');
    return item as string;
  });
}

/**
 * The sampler's repetition penalty divides (or multiplies) the logit of every token already in
 * the context by one factor, as llama.cpp's repeat_penalty. OpenAI's presence_penalty and
 * frequency_penalty subtract from logits instead; without repetition_penalty, their sum p (in
 * [-2, 2]) becomes the factor 1 + p (p >= 0) or 1 / (1 - p): penalised, or encouraged, alike.
 */
function repetitionPenalty(body: Json): number {
  const explicit = optional(body, 'repetition_penalty', number(0, 10, { minExclusive: true }));
  if (explicit !== undefined) return explicit;
  const penalty = (optional(body, 'presence_penalty', number(-2, 2)) ?? 0) + (optional(body, 'frequency_penalty', number(-2, 2)) ?? 0);
  const p = Math.max(-2, Math.min(2, penalty));
  return p >= 0 ? 1 + p : 1 / (1 - p);
}

function sampling(body: Json, defaultMaxTokens: number, maxTokensFields: string[]): Omit<GenerationSettings, 'template' | 'logprobs'> {
  let maxNewTokens = defaultMaxTokens;
  for (const field of maxTokensFields) maxNewTokens = optional(body, field, number(1, Number.MAX_SAFE_INTEGER, { integer: true })) ?? maxNewTokens;
  const temperature = optional(body, 'temperature', number(0, 2)) ?? 1;
  const topP = optional(body, 'top_p', number(0, 1)) ?? 1;
  const topK = optional(body, 'top_k', number(-1, Number.MAX_SAFE_INTEGER, { integer: true })) ?? 0;
  const seed = optional(body, 'seed', number(Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, { integer: true }));
  return {
    maxNewTokens,
    temperature,
    // top_p 0 keeps only the likeliest token: greedy, as top_k 1 is.
    topP: topP === 0 ? 1 : topP,
    topK: topP === 0 ? 1 : Math.max(0, topK),
    repetitionPenalty: repetitionPenalty(body),
    // The sampler's seed is 32 bits; without one each request draws its own.
    seed: seed === undefined ? Math.floor(Math.random() * 2 ** 32) : ((seed % 2 ** 32) + 2 ** 32) % 2 ** 32,
    stop: stopStrings(body),
  };
}

function streamFields(body: Json): { stream: boolean; includeUsage: boolean } {
  const stream = optional(body, 'stream', boolean) ?? false;
  const options = body.stream_options;
  if (options === undefined || options === null) return { stream, includeUsage: false };
  if (!stream) throw invalidRequest(`'stream_options' is only allowed when 'stream' is true.`, 'stream_options', 'invalid_value');
  if (!isObject(options)) throw invalidRequest(`'stream_options' must be an object, got ${typeName(options)}.`, 'stream_options', 'invalid_type');
  return { stream, includeUsage: optional(options, 'include_usage', (value) => boolean(value, 'stream_options.include_usage')) ?? false };
}

function messageContent(value: unknown, field: string): string {
  if (typeof value === 'string') return value;
  if (!Array.isArray(value)) throw invalidRequest(`'${field}' must be a string or an array of text parts, got ${typeName(value)}.`, field, 'invalid_type');
  return value
    .map((part, i) => {
      const partField = `${field}[${i}]`;
      if (!isObject(part)) throw invalidRequest(`'${partField}' must be an object, got ${typeName(part)}.`, partField, 'invalid_type');
      if (part.type !== 'text') throw invalidRequest(`'${partField}.type' must be 'text': this engine reads text only, got ${JSON.stringify(part.type)}.`, `${partField}.type`, 'invalid_value');
      return string(part.text, `${partField}.text`);
    })
    .join('');
}

function messages(body: Json): ChatMessage[] {
  const value = body.messages;
  if (value === undefined || value === null) throw invalidRequest(`'messages' is required.`, 'messages', 'missing_required_parameter');
  if (!Array.isArray(value)) throw invalidRequest(`'messages' must be an array, got ${typeName(value)}.`, 'messages', 'invalid_type');
  if (value.length === 0) throw invalidRequest(`'messages' must hold at least one message.`, 'messages', 'invalid_value');
  return value.map((message, i) => {
    const field = `messages[${i}]`;
    if (!isObject(message)) throw invalidRequest(`'${field}' must be an object, got ${typeName(message)}.`, field, 'invalid_type');
    const role = message.role;
    if (typeof role !== 'string') throw invalidRequest(`'${field}.role' is required: one of system, developer, user, assistant.`, `${field}.role`, role === undefined ? 'missing_required_parameter' : 'invalid_type');
    if (role === 'tool' || role === 'function') unsupported(`${field}.role`, 'tool calling');
    if (!(role in ROLES)) throw invalidRequest(`'${field}.role' must be one of system, developer, user, assistant, got ${JSON.stringify(role)}.`, `${field}.role`, 'invalid_value');
    if (message.tool_calls !== undefined && message.tool_calls !== null) unsupported(`${field}.tool_calls`, 'tool calling');
    if (message.content === undefined || message.content === null) throw invalidRequest(`'${field}.content' is required.`, `${field}.content`, 'missing_required_parameter');
    return { role: ROLES[role], content: messageContent(message.content, `${field}.content`) };
  });
}

function prompt(body: Json): string | number[] {
  const value = body.prompt;
  if (value === undefined || value === null) throw invalidRequest(`'prompt' is required.`, 'prompt', 'missing_required_parameter');
  if (typeof value === 'string') return value;
  if (!Array.isArray(value)) throw invalidRequest(`'prompt' must be a string, an array of token ids, or an array of one of either; got ${typeName(value)}.`, 'prompt', 'invalid_type');
  const ids = (list: unknown[], field: string): number[] =>
    list.map((id, i) => {
      if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) throw invalidRequest(`'${field}[${i}]' must be a token id (a non-negative integer), got ${JSON.stringify(id)}.`, `${field}[${i}]`, 'invalid_type');
      return id;
    });
  if (value.length > 0 && typeof value[0] === 'number') return ids(value, 'prompt');
  if (value.length !== 1) throw invalidRequest(`'prompt' must be one prompt: this engine writes one answer per request (got ${value.length}).`, 'prompt', 'invalid_value');
  const [only] = value;
  if (typeof only === 'string') return only;
  if (Array.isArray(only) && only.length > 0) return ids(only, 'prompt[0]');
  throw invalidRequest(`'prompt[0]' must be a string or a non-empty array of token ids, got ${typeName(only)}.`, 'prompt[0]', 'invalid_type');
}

function model(body: Json): string | undefined {
  return optional(body, 'model', string);
}

function bodyObject(body: unknown): Json {
  if (!isObject(body)) throw invalidRequest(`The request body must be a JSON object, got ${typeName(body)}.`, null, 'invalid_type');
  return body;
}

export function parseChatRequest(input: unknown): ApiRequest {
  const body = bodyObject(input);
  const parsedModel = model(body);
  const parsedMessages = messages(body);
  refuseUnsupported(body);
  const logprobs = optional(body, 'logprobs', boolean) ?? false;
  const topLogprobs = optional(body, 'top_logprobs', number(0, 20, { integer: true }));
  if (topLogprobs !== undefined && !logprobs) throw invalidRequest(`'top_logprobs' needs 'logprobs' set to true.`, 'top_logprobs', 'invalid_value');
  if (topLogprobs !== undefined && topLogprobs > TOP_LOGPROBS) {
    throw invalidRequest(`'top_logprobs' must be at most ${TOP_LOGPROBS} on this engine (its scoring kernel keeps the ${TOP_LOGPROBS} likeliest tokens), got ${topLogprobs}.`, 'top_logprobs', 'invalid_value');
  }
  return {
    endpoint: 'chat',
    model: parsedModel,
    input: { messages: parsedMessages },
    settings: { ...sampling(body, Number.MAX_SAFE_INTEGER, ['max_tokens', 'max_completion_tokens']), template: 'auto', logprobs },
    topLogprobs: topLogprobs ?? 0,
    ...streamFields(body),
    echo: false,
  };
}

export function parseCompletionRequest(input: unknown): ApiRequest {
  const body = bodyObject(input);
  const parsedModel = model(body);
  const parsedPrompt = prompt(body);
  refuseUnsupported(body);
  const logprobs = optional(body, 'logprobs', number(0, TOP_LOGPROBS, { integer: true }));
  return {
    endpoint: 'completions',
    model: parsedModel,
    input: { prompt: parsedPrompt },
    settings: { ...sampling(body, COMPLETION_MAX_TOKENS, ['max_tokens']), template: 'raw', logprobs: logprobs !== undefined },
    topLogprobs: logprobs ?? 0,
    ...streamFields(body),
    echo: optional(body, 'echo', boolean) ?? false,
  };
}
