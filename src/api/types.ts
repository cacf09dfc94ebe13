/**
 * The OpenAI API's shapes, as far as this engine serves them (Chat Completions and the legacy
 * Completions), field for field as platform.openai.com's API reference names them. Requests
 * arrive as untyped JSON and are checked by validate.ts; these types describe what passes.
 */

export type Role = 'system' | 'developer' | 'user' | 'assistant';

export interface ChatCompletionMessageParam {
  role: Role;
  /** A string, or text parts ({ type: 'text', text }) that are joined. */
  content: string | { type: 'text'; text: string }[];
  name?: string;
}

/** Sampling fields both endpoints take (top_k and repetition_penalty as vLLM and llama.cpp take them). */
export interface SamplingRequest {
  model?: string;
  max_tokens?: number | null;
  temperature?: number | null;
  top_p?: number | null;
  top_k?: number | null;
  repetition_penalty?: number | null;
  frequency_penalty?: number | null;
  presence_penalty?: number | null;
  seed?: number | null;
  stop?: string | string[] | null;
  n?: number | null;
  stream?: boolean | null;
  stream_options?: { include_usage?: boolean } | null;
}

export interface ChatCompletionCreateParams extends SamplingRequest {
  messages: ChatCompletionMessageParam[];
  max_completion_tokens?: number | null;
  logprobs?: boolean | null;
  top_logprobs?: number | null;
}

export interface CompletionCreateParams extends SamplingRequest {
  /** One prompt: text or token ids (a list of one of either is accepted too). */
  prompt: string | string[] | number[] | number[][];
  /** How many alternatives per token to return (0 .. 5), or null for none. */
  logprobs?: number | null;
  echo?: boolean | null;
}

export type FinishReason = 'stop' | 'length';

export interface CompletionUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export interface TopLogprob {
  token: string;
  logprob: number;
  bytes: number[] | null;
}

export interface ChatCompletionTokenLogprob extends TopLogprob {
  top_logprobs: TopLogprob[];
}

export interface ChatChoiceLogprobs {
  content: ChatCompletionTokenLogprob[] | null;
  refusal: null;
}

export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: {
    index: number;
    message: { role: 'assistant'; content: string; refusal: null };
    logprobs: ChatChoiceLogprobs | null;
    finish_reason: FinishReason;
  }[];
  usage: CompletionUsage;
}

export interface ChatCompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: {
    index: number;
    delta: { role?: 'assistant'; content?: string };
    logprobs: ChatChoiceLogprobs | null;
    finish_reason: FinishReason | null;
  }[];
  /** With stream_options.include_usage: null on every chunk but the last, which has no choices. */
  usage?: CompletionUsage | null;
}

/** The legacy Completions API's logprobs: parallel lists, alternatives as { token: logprob }. */
export interface CompletionLogprobs {
  tokens: string[];
  token_logprobs: number[];
  top_logprobs: Record<string, number>[];
  text_offset: number[];
}

export interface CompletionChoice {
  text: string;
  index: number;
  logprobs: CompletionLogprobs | null;
  finish_reason: FinishReason | null;
}

export interface Completion {
  id: string;
  object: 'text_completion';
  created: number;
  model: string;
  choices: CompletionChoice[];
  usage?: CompletionUsage | null;
}

export interface Model {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
}

export interface ModelList {
  object: 'list';
  data: Model[];
}

export interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}
