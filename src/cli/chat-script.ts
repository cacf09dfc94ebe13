/**
 * The CLI's multi-turn mode: `chat --script FILE.jsonl` asks each line's `{"user": "..."}` in one
 * conversation, sending the whole history every turn as the app does, so the context window and
 * the KV-cache reuse across turns are what a user of the app gets.
 */
import type { ChatEngine, ChatSettings } from '../chat/engine';
import type { FinishReason } from '../chat/generate';
import type { ChatMessage } from '../chat/template';
import { EngineError } from '../errors';
import { readFlagFile } from './args';

/** One answered turn, as `chat --json` prints it (one JSON object per line). */
export interface TurnReport {
  /** 1-based, the script's turn (blank lines are not turns). */
  turn: number;
  /** Tokens in this turn's prompt (the kept window, system prompt included). */
  promptTokens: number;
  /** Prompt tokens actually run this turn; the rest were reused from the KV cache. */
  prefillTokens: number;
  newTokens: number;
  /** Oldest messages (questions and answers) left out of the prompt to fit the context. */
  droppedTurns: number;
  /** Wall time of the turn: prompt, prefill and generation. */
  ms: number;
  finishReason: FinishReason;
  ids: number[];
  text: string;
}

/** The questions of a script: one JSON object `{"user": "..."}` per non-blank line. */
export function parseChatScript(text: string, file: string): string[] {
  const questions: string[] = [];
  // Editors on Windows may start the file with a byte-order mark; it is not part of line 1's JSON.
  text.replace(/^\uFEFF/, '').split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    const where = `${file} line ${index + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new EngineError('bad-input', `${where} is not JSON (${(error as Error).message}): expected {"user": "..."}`, { line: index + 1 });
    }
    const user = typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>).user : undefined;
    if (typeof user !== 'string' || user.trim() === '') {
      throw new EngineError('bad-input', `${where}: expected {"user": "..."} with a non-empty string, got ${line.trim().slice(0, 80)}`, { line: index + 1 });
    }
    questions.push(user);
  });
  if (questions.length === 0) throw new EngineError('bad-input', `${file} has no turns: write one {"user": "..."} per line`);
  return questions;
}

export async function readChatScript(file: string): Promise<string[]> {
  return parseChatScript(await readFlagFile('script', file), file);
}

/** Answers `questions` in order in one conversation; reports each turn as it ends. */
export async function runChatScript(
  engine: ChatEngine,
  questions: string[],
  settings: ChatSettings,
  callbacks: { onTurn(report: TurnReport): void; onAsk?(question: string): void; onText?(text: string): void; onNotice?(notice: string): void },
): Promise<void> {
  const messages: ChatMessage[] = [];
  for (const [index, question] of questions.entries()) {
    messages.push({ role: 'user', content: question });
    callbacks.onAsk?.(question);
    const started = performance.now();
    const result = await engine.chat(messages, settings, { onText: callbacks.onText });
    if (result.notice && index === 0) callbacks.onNotice?.(result.notice);
    messages.push({ role: 'assistant', content: result.text });
    callbacks.onTurn({
      turn: index + 1,
      promptTokens: result.promptTokens,
      prefillTokens: result.prefilledTokens,
      newTokens: result.ids.length,
      droppedTurns: result.droppedTurns,
      ms: Math.round((performance.now() - started) * 10) / 10,
      finishReason: result.finishReason,
      ids: result.ids,
      text: result.text,
    });
  }
}
