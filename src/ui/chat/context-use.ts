/** How full a model's context is for one conversation: what the context meter by the composer shows. */
import type { UiMessage } from '../conversations/threads';

export interface ContextUse {
  /** Tokens in the context: the last prompt (the kept window) and its answer. */
  used: number;
  total: number;
  /** Oldest messages the model no longer sees. */
  dropped: number;
}

/**
 * From the newest answer that has stats: its prompt and answer are what the context holds now.
 * Before any answer, the loaded model's empty context; undefined while neither is known.
 */
export function contextUse(messages: UiMessage[], loadedContextLength?: number): ContextUse | undefined {
  const stats = messages.findLast((message) => message.role === 'assistant' && message.stats)?.stats;
  if (stats) return { used: Math.min(stats.promptTokens + stats.newTokens, stats.contextLength), total: stats.contextLength, dropped: stats.droppedTurns };
  return loadedContextLength ? { used: 0, total: loadedContextLength, dropped: 0 } : undefined;
}
