/**
 * Conversations as the UI shows them, per tab (and per model, so pointing a tab at another repo
 * starts a fresh history), persisted in IndexedDB with idb-keyval. Writes are debounced while
 * tokens stream and flushed when an answer ends or the page is hidden.
 */
import * as idb from 'idb-keyval';
import type { ErrorData } from '../errors';
import type { FinishReason } from '../chat/generate';
import type { GenerationStats } from '../worker/protocol';
import { Store } from './store';

export interface UiMessage {
  id: string;
  role: 'user' | 'assistant';
  content: string;
  /** Assistant messages: where the answer is. */
  state?: 'waiting' | 'loading' | 'streaming' | 'done' | 'stopped' | 'error';
  repo?: string;
  stats?: GenerationStats;
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

export const EMPTY_THREAD: Thread = { messages: [], turns: [] };
const storageKey = (key: string) => `thread:v1:${key}`;

let counter = 0;
export function newId(): string {
  counter += 1;
  return `${Date.now().toString(36)}-${counter}-${Math.random().toString(36).slice(2, 6)}`;
}

/** An answer still on its way: waiting for the model, loading it, or streaming. */
export function isPending(message: UiMessage): boolean {
  return message.state === 'waiting' || message.state === 'loading' || message.state === 'streaming';
}

/** An answer that was streaming when the page closed ended there. */
function settle(message: UiMessage): UiMessage {
  return isPending(message) ? { ...message, state: 'stopped' } : message;
}

/** Where threads are saved: IndexedDB in the app, a Map in tests. */
export interface KeyValueStore {
  get<T>(key: string): Promise<T | undefined>;
  set(key: string, value: unknown): Promise<void>;
  del(key: string): Promise<void>;
}

export class Threads {
  readonly state = new Store<Record<string, Thread>>({});
  /** Keys whose saved copy has been read (or found absent). */
  readonly opened = new Store<ReadonlySet<string>>(new Set());
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(private readonly storage: KeyValueStore = idb) {
    globalThis.addEventListener?.('pagehide', () => this.flushAll());
  }

  thread(key: string): Thread {
    return this.state.get()[key] ?? EMPTY_THREAD;
  }

  /** Reads the saved thread once; later calls return at once. */
  async open(key: string): Promise<void> {
    if (this.opened.get().has(key)) return;
    const saved = await this.storage.get<Thread>(storageKey(key));
    if (!this.state.get()[key] && saved) {
      const thread = { messages: (saved.messages ?? []).map(settle), turns: (saved.turns ?? []).map((turn) => ({ ...turn, answers: turn.answers.map(settle) })) };
      this.state.set((all) => ({ ...all, [key]: thread }));
    }
    this.opened.set((keys) => new Set([...keys, key]));
  }

  update(key: string, change: (thread: Thread) => Thread): void {
    this.state.set((all) => ({ ...all, [key]: change(all[key] ?? EMPTY_THREAD) }));
    if (!this.timers.has(key)) this.timers.set(key, setTimeout(() => void this.flush(key), 500));
  }

  updateMessage(key: string, id: string, change: Partial<UiMessage> | ((message: UiMessage) => Partial<UiMessage>)): void {
    const apply = (message: UiMessage) => (message.id === id ? { ...message, ...(typeof change === 'function' ? change(message) : change) } : message);
    this.update(key, (thread) => ({
      messages: thread.messages.map(apply),
      turns: thread.turns.map((turn) => (turn.answers.some((a) => a.id === id) ? { ...turn, answers: turn.answers.map(apply) } : turn)),
    }));
  }

  async clear(key: string): Promise<void> {
    this.state.set((all) => ({ ...all, [key]: EMPTY_THREAD }));
    clearTimeout(this.timers.get(key));
    this.timers.delete(key);
    await this.storage.del(storageKey(key));
  }

  async flush(key: string): Promise<void> {
    clearTimeout(this.timers.get(key));
    this.timers.delete(key);
    await this.storage.set(storageKey(key), this.thread(key));
  }

  private flushAll(): void {
    for (const key of [...this.timers.keys()]) void this.flush(key);
  }
}
