/**
 * How likely a model finds a text: a pasted text (the app's "score a text", the CLI's `score`)
 * or an answer after its conversation (the token view). One GPU pass over the ids
 * (ChatSession.score -> LlamaModel.score); the per-token results are grouped into spans of
 * visible text, since a Hangul syllable often arrives as three byte tokens that show nothing alone.
 */
import { EngineError } from '../errors';
import { TOP_LOGPROBS } from '../gpu/ops';
import { perplexity } from '../eval/stats';
import type { TokenScores } from '../model/llama';
import type { Tokenizer } from '../tokenizer/tokenizer';
import type { ChatEngine, ChatSettings } from './engine';
import type { ChatMessage } from './template';

export interface Alternative {
  id: number;
  /** The token as a person reads it: a sentencepiece piece ("▁안", "<0xEC>"), a byte-level token decoded ("안", "<0xEB><0xB7>"). */
  piece: string;
  logprob: number;
}

export interface TokenScore extends Alternative {
  /** The TOP_LOGPROBS likeliest tokens at this position, best first. */
  top: Alternative[];
}

/** Tokens that show as one piece of text, with what the model thought of each. */
export interface ScoredSpan {
  text: string;
  tokens: TokenScore[];
}

export interface ScoredText {
  /** Tokens scored (the answer's, or the text's after BOS). */
  tokens: number;
  /** Tokens of context before them (the conversation up to the answer, or BOS). */
  contextTokens: number;
  perplexity: number;
  spans: ScoredSpan[];
}

export type ScoreInput =
  | { kind: 'text'; text: string }
  /**
   * `answer` as the reply to `history` (which ends with the user's question), in its prompt
   * format. `ids`: the tokens the model wrote, scored as written where they spell `answer` (a
   * sampled answer need not be the text's canonical tokenization); else `answer` is encoded.
   * `droppedTurns`: the messages after the system prompt the chat left out when it wrote the
   * answer (its stats), so the answer is scored after the window it was written after.
   */
  | { kind: 'answer'; history: ChatMessage[]; answer: string; settings: Pick<ChatSettings, 'template' | 'systemPrompt'>; ids?: number[]; droppedTurns?: number };

/** The ids to score and where the scored part starts. */
export function scoreIds(engine: ChatEngine, input: ScoreInput): { ids: number[]; first: number } {
  const { tokenizer } = engine.repo;
  if (input.kind === 'text') return { ids: tokenizer.encode(input.text, { addBos: true }), first: 1 };
  const format = engine.promptFormat(input.settings);
  // encode() adds sentencepiece's dummy-prefix "▁": the space a model writes after "ASSISTANT:".
  const answer = (input.ids && idsSpelling(tokenizer, input.ids, input.answer)) ?? tokenizer.encode(input.answer);
  const system = input.history.filter((m) => m.role === 'system');
  const all = input.history.filter((m) => m.role !== 'system');
  // A conversation past the context was answered from its latest turns (ChatEngine.chat leaves
  // a block of the oldest out): start where that answer's window started, then, if the answer
  // itself does not fit after it (or the window is not known), leave out the oldest exchanges.
  let turns = all.slice(Math.min(input.droppedTurns ?? 0, all.length - 1));
  let context = engine.promptIds([...system, ...turns], format);
  while (context.length + answer.length - 1 > engine.session.contextLength && turns.length > 1) {
    turns = turns.slice(turns[1]?.role === 'assistant' ? 2 : 1);
    context = engine.promptIds([...system, ...turns], format);
  }
  return { ids: [...context, ...answer], first: context.length };
}

export async function scoreInput(engine: ChatEngine, input: ScoreInput): Promise<ScoredText> {
  const { ids, first } = scoreIds(engine, input);
  if (ids.length <= first) throw new EngineError('bad-input', 'Nothing to score: the text is empty');
  const limit = engine.session.contextLength;
  if (ids.length - 1 > limit) {
    throw new EngineError('context-full', `This is ${ids.length} tokens with its context; the model's context holds ${limit}. Score a shorter text or choose a longer context in the settings.`, {
      tokens: ids.length,
      contextLength: limit,
    });
  }
  const scores = await engine.session.score(ids);
  return {
    tokens: ids.length - first,
    contextTokens: first,
    perplexity: perplexity(scores.logprobs.subarray(first - 1)),
    spans: scoredSpans(engine.repo.tokenizer, ids, first, scores),
  };
}

/**
 * The first ids of `ids` that decode to exactly `text`, or undefined: a generation's ids go on
 * past its text by the stop token, or a stop string the text leaves out.
 */
export function idsSpelling(tokenizer: Tokenizer, ids: readonly number[], text: string): number[] | undefined {
  const decoder = tokenizer.streamingDecoder();
  let spelled = '';
  for (let i = 0; i < ids.length; i++) {
    if (spelled === text && text !== '') return ids.slice(0, i);
    if (!Number.isInteger(ids[i]) || ids[i] < 0 || ids[i] >= tokenizer.vocabSize) return undefined;
    spelled += decoder.push(ids[i]);
    if (!text.startsWith(spelled)) return undefined;
  }
  return spelled + decoder.flush() === text && text !== '' ? [...ids] : undefined;
}

/** Groups tokens first .. of `ids` into spans of the text they decode to. */
export function scoredSpans(tokenizer: Tokenizer, ids: number[], first: number, scores: TokenScores): ScoredSpan[] {
  // lm_head may be wider than the tokenizer (padded vocabularies): such ids have no piece.
  const piece = (id: number) => (id < tokenizer.vocabSize ? tokenizer.displayPiece(id) : `<id ${id}>`);
  const decoder = tokenizer.streamingDecoder();
  const spans: ScoredSpan[] = [];
  let pending: TokenScore[] = [];
  for (let i = first; i < ids.length; i++) {
    const row = i - 1; // the logits row that predicted ids[i]
    const top = Array.from({ length: TOP_LOGPROBS }, (_, k) => {
      const id = scores.topIds[row * TOP_LOGPROBS + k];
      return { id, piece: piece(id), logprob: scores.topLogprobs[row * TOP_LOGPROBS + k] };
    });
    pending.push({ id: ids[i], piece: piece(ids[i]), logprob: scores.logprobs[row], top });
    const text = decoder.push(ids[i]);
    if (text !== '') {
      spans.push({ text, tokens: pending });
      pending = [];
    }
  }
  const rest = decoder.flush();
  if (pending.length > 0) {
    if (rest === '' && spans.length > 0) spans.at(-1)!.tokens.push(...pending);
    else spans.push({ text: rest, tokens: pending });
  }
  return spans;
}
