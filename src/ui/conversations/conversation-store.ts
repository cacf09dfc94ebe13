/**
 * How saved conversations lie in IndexedDB: one small index record (every conversation's id,
 * tab, title, dates, models and message count, and which one each tab shows) and one record per
 * conversation with its messages. Listing 500 conversations reads the index alone; a
 * conversation's messages are read when it is opened or searched.
 *
 * Before this layout (v1) each tab key held its one thread under `thread:v1:<tab key>`; the
 * first open moves them into the index, each as the conversation its tab shows.
 */
import type { Thread, UiMessage } from './conversation';

export interface ConversationMeta {
  id: string;
  /** The conversation key of the tab whose list it is in (chatKey / compareKey). */
  tabKey: string;
  kind: 'chat' | 'compare';
  title: string;
  /** The user named it; otherwise the title follows the first question. */
  renamed?: boolean;
  /** Milliseconds since the epoch. */
  createdAt: number;
  updatedAt: number;
  /** Repos that answered, in the order they first did. */
  models: string[];
  messageCount: number;
}

export interface ConversationIndex {
  version: 2;
  conversations: ConversationMeta[];
  /** Tab key -> the conversation it shows (an id not in `conversations` is a new, empty chat). */
  active: Record<string, string>;
}

/** Where conversations are saved: idb-keyval in the app, a Map in tests (ui/testing). */
export interface KeyValueStore {
  get<T>(key: string): Promise<T | undefined>;
  getMany<T>(keys: string[]): Promise<(T | undefined)[]>;
  set(key: string, value: unknown): Promise<void>;
  del(key: string): Promise<void>;
  keys(): Promise<IDBValidKey[]>;
  /** Read-modify-write in one transaction, so two windows' index writes cannot interleave. */
  update<T>(key: string, updater: (old: T | undefined) => T): Promise<void>;
}

export const INDEX_KEY = 'conversations:v2';
export const bodyKey = (id: string) => `conversation:v2:${id}`;
const V1_PREFIX = 'thread:v1:';
const TITLE_LENGTH = 80;

export const emptyIndex = (): ConversationIndex => ({ version: 2, conversations: [], active: {} });

export function isEmptyThread(thread: Thread): boolean {
  return thread.messages.length === 0 && thread.turns.length === 0;
}

/** The first question on one line, cut to a list row's length. */
export function autoTitle(thread: Thread): string {
  const first = thread.messages.find((message) => message.role === 'user')?.content ?? thread.turns[0]?.prompt ?? '';
  const line = first.replace(/\s+/g, ' ').trim();
  const chars = [...line];
  return chars.length > TITLE_LENGTH ? `${chars.slice(0, TITLE_LENGTH - 1).join('')}…` : line || '새 대화';
}

export function answersOf(thread: Thread): UiMessage[] {
  return [...thread.messages.filter((message) => message.role === 'assistant'), ...thread.turns.flatMap((turn) => turn.answers)];
}

/** What the index says about a thread's content (title unless renamed, models, count). */
export function describe(thread: Thread): Pick<ConversationMeta, 'kind' | 'title' | 'models' | 'messageCount'> {
  const models = [...new Set(answersOf(thread).flatMap((answer) => (answer.repo ? [answer.repo] : [])))];
  const messageCount = thread.messages.length + thread.turns.reduce((sum, turn) => sum + 1 + turn.answers.length, 0);
  return { kind: thread.turns.length > 0 ? 'compare' : 'chat', title: autoTitle(thread), models, messageCount };
}

/** Newest first. */
export function byRecency(a: ConversationMeta, b: ConversationMeta): number {
  return b.updatedAt - a.updatedAt || b.createdAt - a.createdAt;
}

/**
 * This window's index written over the stored one: conversations another window saved meanwhile
 * are kept, unless this window deleted them.
 */
export function mergeIndex(stored: ConversationIndex | undefined, local: ConversationIndex, deleted: ReadonlySet<string>): ConversationIndex {
  const known = new Set(local.conversations.map((meta) => meta.id));
  const theirs = (stored?.conversations ?? []).filter((meta) => !known.has(meta.id) && !deleted.has(meta.id));
  return { version: 2, conversations: [...local.conversations, ...theirs], active: { ...stored?.active, ...local.active } };
}

/** The index, made from the v1 threads on the first open after the update. */
export async function openIndex(storage: KeyValueStore, makeId: () => string, now: number): Promise<ConversationIndex> {
  const stored = await storage.get<ConversationIndex>(INDEX_KEY);
  if (stored) return { ...emptyIndex(), ...stored, conversations: (stored.conversations ?? []).filter(isMeta) };
  return migrateV1(storage, makeId, now);
}

async function migrateV1(storage: KeyValueStore, makeId: () => string, now: number): Promise<ConversationIndex> {
  const keys = (await storage.keys()).filter((key): key is string => typeof key === 'string' && key.startsWith(V1_PREFIX));
  const index = emptyIndex();
  const migrated: string[] = [];
  for (const key of keys) {
    const saved = await storage.get<Partial<Thread>>(key);
    if (!saved || typeof saved !== 'object') continue; // not ours to read: left where it is
    const thread: Thread = { messages: Array.isArray(saved.messages) ? saved.messages : [], turns: Array.isArray(saved.turns) ? saved.turns : [] };
    migrated.push(key);
    if (isEmptyThread(thread)) continue;
    const id = makeId();
    const ids = [...thread.messages.map((message) => message.id), ...thread.turns.map((turn) => turn.id)];
    const createdAt = timeOfId(ids[0]) ?? now;
    const tabKey = key.slice(V1_PREFIX.length);
    index.conversations.push({ id, tabKey, ...describe(thread), createdAt, updatedAt: Math.max(createdAt, timeOfId(ids.at(-1)) ?? createdAt) });
    index.active[tabKey] = id;
    await storage.set(bodyKey(id), thread);
  }
  // Another window may have migrated first: its index stands, and the v1 records go only once
  // an index that holds their copies is written.
  let written = index;
  await storage.update<ConversationIndex>(INDEX_KEY, (existing) => (written = existing ?? index));
  if (written === index) await Promise.all(migrated.map((key) => storage.del(key)));
  return written;
}

/** Message ids (threads.ts newId) begin with their creation time in base 36. */
function timeOfId(id: string | undefined): number | undefined {
  const time = id ? parseInt(id.split('-')[0], 36) : NaN;
  return Number.isFinite(time) && time > Date.UTC(2020, 0) && time < Date.UTC(2100, 0) ? time : undefined;
}

function isMeta(value: unknown): value is ConversationMeta {
  const meta = value as ConversationMeta;
  return typeof meta?.id === 'string' && typeof meta.tabKey === 'string' && typeof meta.title === 'string' && Number.isFinite(meta.updatedAt);
}
