import { describe, expect, it } from 'vitest';
import type { GenerationStats } from '../../worker/protocol';
import { contextUse } from './context-use';
import type { UiMessage } from '../conversations/threads';

const stats = (promptTokens: number, newTokens: number, droppedTurns = 0): GenerationStats => ({
  promptTokens,
  prefilledTokens: 10,
  newTokens,
  prefillTokensPerSecond: 1,
  decodeTokensPerSecond: 1,
  contextLength: 512,
  droppedTurns,
});
const user = (content: string): UiMessage => ({ id: content, role: 'user', content });
const answer = (id: string, extra: Partial<UiMessage>): UiMessage => ({ id, role: 'assistant', content: id, state: 'done', ...extra });

describe('contextUse', () => {
  it('is the newest answer with stats: its prompt and answer, and what it left out', () => {
    const messages = [user('q1'), answer('a1', { stats: stats(300, 20) }), user('q2'), answer('a2', { stats: stats(200, 30, 4) }), user('q3'), answer('a3', { state: 'streaming' })];
    expect(contextUse(messages, 1024)).toEqual({ used: 230, total: 512, dropped: 4 });
  });

  it('is the loaded model empty context before any answer, and unknown before a load', () => {
    expect(contextUse([user('q1'), answer('a1', { state: 'error' })], 2048)).toEqual({ used: 0, total: 2048, dropped: 0 });
    expect(contextUse([], undefined)).toBeUndefined();
  });
});
