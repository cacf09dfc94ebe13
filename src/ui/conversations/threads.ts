/**
 * Conversations as the UI shows them. Each tab shows one conversation at a time and keeps the
 * others in its list: New chat starts another and leaves the old one saved. Persisted in
 * IndexedDB (idb-keyval) in the layout of conversation-store.ts; writes are debounced while
 * tokens stream and flushed when an answer ends or the page is hidden.
 */
import * as idb from 'idb-keyval';
import { toErrorData, type ErrorData } from '../../errors';
import type { Thread, UiMessage } from './conversation';
import { bodyKey, byRecency, describe, INDEX_KEY, isEmptyThread, mergeIndex, openIndex, type ConversationMeta, type KeyValueStore } from './conversation-store';
import { Store } from '../common/store';

export type { KeyValueStore } from './conversation-store';
export type { AnswerSettings, CompareTurn, Thread, UiMessage } from './conversation';

/** A deleted conversation, kept for Undo. */
export interface Removed {
  meta: ConversationMeta;
  thread: Thread;
  /** Its tab was showing it. */
  shown: boolean;
}

export const EMPTY_THREAD: Thread = { messages: [], turns: [] };

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

export function settleThread(thread: Partial<Thread>): Thread {
  return { messages: (thread.messages ?? []).map(settle), turns: (thread.turns ?? []).map((turn) => ({ ...turn, answers: turn.answers.map(settle) })) };
}

const holds = (thread: Thread | undefined, id: string) =>
  !!thread && (thread.messages.some((m) => m.id === id) || thread.turns.some((turn) => turn.answers.some((a) => a.id === id)));

export class Threads {
  /** Conversation id -> its messages, for the conversations read so far. */
  readonly state = new Store<Record<string, Thread>>({});
  /** Every saved conversation of every tab (unordered; list() sorts). */
  readonly index = new Store<ConversationMeta[]>([]);
  /** Tab key -> the conversation it shows; an id not in the index is a new chat with nothing said yet. */
  readonly active = new Store<Record<string, string>>({});
  /** Tab keys whose conversation has been read (or found absent). */
  readonly opened = new Store<ReadonlySet<string>>(new Set());
  /** Why conversations could not be read or saved (IndexedDB unavailable, quota). */
  readonly failure = new Store<ErrorData | undefined>(undefined);
  private loading?: Promise<void>;
  private readonly dirty = new Set<string>();
  private indexDirty = false;
  private timer?: ReturnType<typeof setTimeout>;
  private lastStamp = 0;
  /** Deleted here: a merge with another window's index must not bring them back. */
  private readonly deleted = new Set<string>();

  constructor(
    private readonly storage: KeyValueStore = idb,
    private readonly now: () => number = Date.now,
  ) {
    globalThis.addEventListener?.('pagehide', () => void this.flush());
  }

  activeId(key: string): string | undefined {
    return this.active.get()[key];
  }

  /** The conversation tab `key` shows. */
  thread(key: string): Thread {
    return this.state.get()[this.activeId(key) ?? ''] ?? EMPTY_THREAD;
  }

  meta(id: string): ConversationMeta | undefined {
    return this.index.get().find((meta) => meta.id === id);
  }

  /** Tab `key`'s saved conversations, newest first. */
  list(key: string): ConversationMeta[] {
    return this.index.get().filter((meta) => meta.tabKey === key).sort(byRecency);
  }

  /** Reads the index and the tab's conversation once; later calls return at once. */
  async open(key: string): Promise<void> {
    if (this.opened.get().has(key)) return;
    await this.load();
    const id = this.activeId(key);
    if (id) await this.read([id]);
    this.opened.set((keys) => new Set([...keys, key]));
  }

  /** Shows conversation `id` in tab `key`, or a new empty one; the one shown before stays in the list. */
  async select(key: string, id?: string): Promise<void> {
    await this.load();
    if (id !== undefined) await this.read([id]);
    this.active.set((all) => ({ ...all, [key]: id ?? newId() }));
    this.opened.set((keys) => new Set([...keys, key]));
    this.indexDirty = true;
    this.schedule();
  }

  /** Changes the conversation tab `key` shows (starting one if it has none). */
  update(key: string, change: (thread: Thread) => Thread): void {
    const id = this.activeId(key) ?? newId();
    if (this.activeId(key) === undefined) this.active.set((all) => ({ ...all, [key]: id }));
    const thread = change(this.state.get()[id] ?? EMPTY_THREAD);
    this.state.set((all) => ({ ...all, [id]: thread }));
    const current = this.meta(id);
    if (current || !isEmptyThread(thread)) {
      // Strictly increasing, so that two changes within a millisecond still sort in order.
      const now = (this.lastStamp = Math.max(this.now(), this.lastStamp + 1));
      const described = describe(thread);
      const next: ConversationMeta = { id, tabKey: key, createdAt: now, ...current, ...described, title: current?.renamed ? current.title : described.title, updatedAt: now };
      this.index.set((all) => (current ? all.map((meta) => (meta.id === id ? next : meta)) : [...all, next]));
      this.indexDirty = true;
    }
    this.dirty.add(id);
    this.schedule();
  }

  /** Changes message `id` wherever it is: a stopped answer may end after its tab moved on. */
  updateMessage(key: string, id: string, change: Partial<UiMessage> | ((message: UiMessage) => Partial<UiMessage>)): void {
    const all = this.state.get();
    const shown = this.activeId(key);
    const owner = shown && holds(all[shown], id) ? shown : Object.keys(all).find((conversation) => holds(all[conversation], id));
    if (!owner) return;
    const apply = (message: UiMessage) => (message.id === id ? { ...message, ...(typeof change === 'function' ? change(message) : change) } : message);
    this.state.set((threads) => {
      const thread = threads[owner];
      return {
        ...threads,
        [owner]: {
          messages: thread.messages.map(apply),
          turns: thread.turns.map((turn) => (turn.answers.some((a) => a.id === id) ? { ...turn, answers: turn.answers.map(apply) } : turn)),
        },
      };
    });
    this.dirty.add(owner);
    this.schedule();
  }

  /** An empty `title` gives the conversation back its first question as title. */
  rename(id: string, title: string): void {
    const name = title.replace(/\s+/g, ' ').trim();
    const thread = this.state.get()[id];
    this.index.set((all) =>
      all.map((meta) => (meta.id !== id ? meta : name ? { ...meta, title: name, renamed: true } : { ...meta, title: thread ? describe(thread).title : meta.title, renamed: false })),
    );
    this.indexDirty = true;
    this.schedule();
  }

  /** Deletes conversation `id`; what it returns puts it back (restore). */
  async remove(id: string): Promise<Removed | undefined> {
    const meta = this.meta(id);
    if (!meta) return undefined;
    await this.read([id]);
    const removed: Removed = { meta, thread: this.state.get()[id] ?? EMPTY_THREAD, shown: this.activeId(meta.tabKey) === id };
    this.deleted.add(id);
    this.dirty.delete(id);
    this.index.set((all) => all.filter((other) => other.id !== id));
    if (removed.shown) this.active.set((all) => ({ ...all, [meta.tabKey]: newId() }));
    this.state.set((all) => Object.fromEntries(Object.entries(all).filter(([other]) => other !== id)));
    this.indexDirty = true;
    // The index stops naming it before its messages go, so it never points at nothing.
    await this.flush();
    await this.guard(() => this.storage.del(bodyKey(id)));
    return removed;
  }

  /** Undo of remove: the conversation returns, shown again if its tab has started nothing since. */
  async restore({ meta, thread, shown }: Removed): Promise<void> {
    this.deleted.delete(meta.id);
    this.state.set((all) => ({ ...all, [meta.id]: thread }));
    this.index.set((all) => [...all.filter((other) => other.id !== meta.id), meta]);
    if (shown && isEmptyThread(this.thread(meta.tabKey))) this.active.set((all) => ({ ...all, [meta.tabKey]: meta.id }));
    this.dirty.add(meta.id);
    this.indexDirty = true;
    await this.flush();
  }

  /** Saves a conversation from elsewhere (an import) in tab `key`'s list; returns its id. */
  async add(key: string, thread: Thread, about: Pick<ConversationMeta, 'title' | 'renamed' | 'createdAt' | 'updatedAt'>): Promise<string> {
    await this.load();
    const id = newId();
    this.state.set((all) => ({ ...all, [id]: thread }));
    this.index.set((all) => [...all, { id, tabKey: key, ...describe(thread), ...about }]);
    this.dirty.add(id);
    this.indexDirty = true;
    await this.flush();
    return id;
  }

  /** Reads the messages of conversations `ids` not read yet, in one transaction (search needs them). */
  async read(ids: string[]): Promise<void> {
    const all = this.state.get();
    const saved = new Set(this.index.get().map((meta) => meta.id));
    const missing = ids.filter((id) => !(id in all) && saved.has(id));
    if (missing.length === 0) return;
    const bodies = (await this.guard(() => this.storage.getMany<Thread>(missing.map(bodyKey)))) ?? [];
    const found = Object.fromEntries(missing.map((id, i) => [id, settleThread(bodies[i] ?? EMPTY_THREAD)]));
    // What changed here meanwhile is newer than what was read.
    this.state.set((current) => ({ ...found, ...current }));
  }

  /** Writes every pending change: conversations first, then the index that names them. */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const all = this.state.get();
    const ids = [...this.dirty].filter((id) => all[id] && this.meta(id));
    this.dirty.clear();
    const writeIndex = this.indexDirty;
    this.indexDirty = false;
    const local = { version: 2 as const, conversations: this.index.get(), active: this.active.get() };
    const saved = await this.guard(async () => {
      await Promise.all(ids.map((id) => this.storage.set(bodyKey(id), all[id])));
      if (writeIndex) await this.storage.update<typeof local>(INDEX_KEY, (stored) => mergeIndex(stored, local, this.deleted));
      return true;
    });
    if (saved) return;
    // Not saved (e.g. quota): try again with the next change.
    ids.forEach((id) => this.dirty.add(id));
    this.indexDirty ||= writeIndex;
  }

  private load(): Promise<void> {
    this.loading ??= (async () => {
      const stored = await this.guard(() => openIndex(this.storage, newId, this.now()));
      if (!stored) return;
      const local = new Set(this.index.get().map((meta) => meta.id));
      this.index.set((all) => [...all, ...stored.conversations.filter((meta) => !local.has(meta.id))]);
      this.active.set((all) => ({ ...stored.active, ...all }));
    })();
    return this.loading;
  }

  private schedule(): void {
    this.timer ??= setTimeout(() => void this.flush(), 500);
  }

  /** Storage failures are shown (failure), never thrown at the chat: it goes on in memory. */
  private async guard<T>(action: () => Promise<T>): Promise<T | undefined> {
    try {
      const result = await action();
      this.failure.set(undefined);
      return result;
    } catch (error) {
      this.failure.set(toErrorData(error));
      return undefined;
    }
  }
}
