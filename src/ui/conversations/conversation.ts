/**
 * What one conversation holds, as the UI shows it and conversation-store.ts saves it: a chat
 * tab's messages or Compare's turns, each answer with the settings and stats it was made with.
 */
import type { ErrorData } from '../../errors';
import type { ChatSettings } from '../../chat/engine';
import type { FinishReason } from '../../chat/generate';
import type { GenerationStats } from '../../worker/protocol';

/** What an answer was generated with: the tab's sampling settings and the model's format. */
export interface AnswerSettings extends ChatSettings {
  dtype: string;
  contextLength: number;
}

export interface UiMessage {
  id: string;
  role: 'user' | 'assistant';
  content: string;
  /** Assistant messages: where the answer is. */
  state?: 'waiting' | 'loading' | 'streaming' | 'done' | 'stopped' | 'error';
  repo?: string;
  settings?: AnswerSettings;
  stats?: GenerationStats;
  /** The token ids the model wrote (the token view scores them as written). */
  ids?: number[];
  finishReason?: FinishReason;
  error?: ErrorData;
  /** Where an error happened: loading the model (the model bar explains it) or answering. */
  failedAt?: 'load' | 'generate';
}

/** One Compare question and each model's answer (answers[i] from the compare tab's models[i]). */
export interface CompareTurn {
  id: string;
  prompt: string;
  answers: UiMessage[];
  /** The GPU could not hold both models: they ran one after the other. */
  sequential?: boolean;
}

export interface Thread {
  messages: UiMessage[];
  turns: CompareTurn[];
}
