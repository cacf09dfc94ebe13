/**
 * Saved conversations without a browser: the IndexedDB layout (one index record, one record per
 * conversation), New chat keeping the old one, reopening after a reload, rename, delete and
 * Undo, the move of v1 threads into the index, and two windows writing the index.
 */
import { describe, expect, it } from 'vitest';
import { bodyKey, INDEX_KEY, type ConversationIndex } from './conversation-store';
import { MemoryStore } from '../testing/fake-worker';
import { Threads, type Thread, type UiMessage } from './threads';

const KEY = 'chat:vicuna:ureca07/korean-vicuna-7b-1.1';
const COMPARE = 'compare:ureca07/korean-vicuna-7b-1.1|huggyllama/llama-7b';

const user = (id: string, content: string): UiMessage => ({ id, role: 'user', content });
const answer = (id: string, content: string, repo = 'ureca07/korean-vicuna-7b-1.1'): UiMessage => ({ id, role: 'assistant', content, state: 'done', repo });

/** A clock the test moves: each call is one second later. */
function clock(start = Date.UTC(2025, 0, 2, 3, 4)) {
  let now = start;
  return () => (now += 1000);
}

/** Threads over a fresh store, with tab KEY opened. */
async function opened() {
  const storage = new MemoryStore();
  const threads = new Threads(storage, clock());
  await threads.open(KEY);
  return { storage, threads };
}

function ask(threads: Threads, key: string, question: string, reply: string): void {
  threads.update(key, (thread) => ({ ...thread, messages: [...thread.messages, user(`${question}-q`, question), answer(`${question}-a`, reply)] }));
}

describe('saved conversations', () => {
  it('New chat keeps the old conversation; the list is newest first and survives a reload, each tab its own', async () => {
    const { storage, threads } = await opened();
    ask(threads, KEY, '삼국 통일 이후 신라는?', '통일신라는 ...');
    const first = threads.activeId(KEY)!;
    await threads.select(KEY);
    expect(threads.thread(KEY).messages).toEqual([]);
    ask(threads, KEY, '하와이 여행', '3일 일정');
    threads.update(COMPARE, (thread) => ({ ...thread, turns: [{ id: 't', prompt: '피보나치', answers: [answer('l', 'a'), answer('r', 'b', 'huggyllama/llama-7b')] }] }));
    await threads.flush();

    const reloaded = new Threads(storage, clock());
    await reloaded.open(KEY);
    expect(reloaded.list(KEY).map((meta) => [meta.title, meta.messageCount, meta.kind])).toEqual([
      ['하와이 여행', 2, 'chat'],
      ['삼국 통일 이후 신라는?', 2, 'chat'],
    ]);
    expect(reloaded.list(COMPARE).map((meta) => [meta.title, meta.models, meta.messageCount, meta.kind])).toEqual([
      ['피보나치', ['ureca07/korean-vicuna-7b-1.1', 'huggyllama/llama-7b'], 3, 'compare'],
    ]);
    // The tab shows what it showed before the reload; the old conversation opens with its messages.
    expect(reloaded.thread(KEY).messages.map((m) => m.content)).toEqual(['하와이 여행', '3일 일정']);
    await reloaded.select(KEY, first);
    expect(reloaded.thread(KEY).messages.map((m) => m.content)).toEqual(['삼국 통일 이후 신라는?', '통일신라는 ...']);
  });

  it('lists from one record: the index, apart from the messages', async () => {
    const { storage, threads } = await opened();
    for (let i = 0; i < 20; i++) {
      ask(threads, KEY, `질문 ${i}`, 'x'.repeat(1000));
      await threads.select(KEY);
    }
    await threads.flush();
    const index = storage.saved.get(INDEX_KEY) as ConversationIndex;
    expect(index.conversations).toHaveLength(20);
    expect(JSON.stringify(index)).not.toContain('xxxx');
    expect((storage.saved.get(bodyKey(index.conversations[0].id)) as Thread).messages[1].content).toHaveLength(1000);

    storage.reads = 0;
    const reloaded = new Threads(storage, clock());
    await reloaded.open(KEY); // the shown conversation is a new, empty chat: nothing to read but the index
    expect(reloaded.list(KEY)).toHaveLength(20);
    expect(storage.reads).toBe(1);
  });

  it('answers left streaming when the page closed read back as stopped', async () => {
    const storage = new MemoryStore();
    const threads = new Threads(storage, clock());
    threads.update(KEY, () => ({ messages: [user('q', '질문'), { ...answer('a', '반쯤'), state: 'streaming' }], turns: [] }));
    await threads.flush();
    const reloaded = new Threads(storage, clock());
    await reloaded.open(KEY);
    expect(reloaded.thread(KEY).messages[1].state).toBe('stopped');
  });

  it('a stopped answer that ends after its tab moved on lands in its own conversation', async () => {
    const threads = new Threads(new MemoryStore(), clock());
    threads.update(KEY, () => ({ messages: [user('q', '질문'), { ...answer('a', '반'), state: 'streaming' }], turns: [] }));
    const old = threads.activeId(KEY)!;
    await threads.select(KEY);
    threads.updateMessage(KEY, 'a', { content: '반쯤 끝남', state: 'stopped' });
    expect(threads.thread(KEY)).toEqual({ messages: [], turns: [] });
    expect(threads.state.get()[old].messages[1]).toMatchObject({ content: '반쯤 끝남', state: 'stopped' });
    expect(threads.list(KEY)).toHaveLength(1);
  });

  it('renames (an empty name gives the first question back), deletes, and Undo restores', async () => {
    const { storage, threads } = await opened();
    ask(threads, KEY, '첫 질문', '답');
    const id = threads.activeId(KEY)!;
    threads.rename(id, '  내   이름 ');
    ask(threads, KEY, '둘째 질문', '답'); // a renamed title stays when the conversation grows
    expect(threads.meta(id)).toMatchObject({ title: '내 이름', renamed: true });
    threads.rename(id, ' ');
    expect(threads.meta(id)).toMatchObject({ title: '첫 질문', renamed: false });

    const removed = (await threads.remove(id))!;
    expect(removed.shown).toBe(true);
    expect(threads.list(KEY)).toEqual([]);
    expect(threads.thread(KEY).messages).toEqual([]);
    expect(storage.saved.has(bodyKey(id))).toBe(false);
    expect((storage.saved.get(INDEX_KEY) as ConversationIndex).conversations).toEqual([]);

    await threads.restore(removed);
    expect(threads.activeId(KEY)).toBe(id);
    const reloaded = new Threads(storage, clock());
    await reloaded.open(KEY);
    expect(reloaded.list(KEY).map((meta) => meta.id)).toEqual([id]);
    expect(reloaded.thread(KEY).messages).toHaveLength(4);
  });

  it('keeps what another window saved meanwhile, but not what this one deleted', async () => {
    const storage = new MemoryStore();
    const one = new Threads(storage, clock());
    const two = new Threads(storage, clock());
    await Promise.all([one.open(KEY), two.open(KEY)]);
    ask(one, KEY, '창 하나', 'a');
    ask(one, COMPARE, '지울 것', 'b');
    await one.flush();
    ask(two, KEY, '창 둘', 'c');
    await two.flush();
    await one.remove(one.activeId(COMPARE)!);
    const reloaded = new Threads(storage, clock());
    await reloaded.open(KEY);
    expect(reloaded.list(KEY).map((meta) => meta.title).sort()).toEqual(['창 둘', '창 하나']);
    expect(reloaded.list(COMPARE)).toEqual([]);
  });

  it('moves v1 threads into the index on first open, each shown in its tab, dated by its message ids', async () => {
    const storage = new MemoryStore();
    const at = Date.UTC(2024, 5, 1, 12, 0);
    const v1: Thread = { messages: [user(`${at.toString(36)}-1-abcd`, '예전 질문'), answer(`${(at + 60_000).toString(36)}-2-efgh`, '예전 답')], turns: [] };
    const compare: Thread = { messages: [], turns: [{ id: `${at.toString(36)}-3-x`, prompt: '비교 질문', answers: [answer('a', '1'), answer('b', '2', 'huggyllama/llama-7b')] }] };
    storage.saved.set(`thread:v1:${KEY}`, v1);
    storage.saved.set(`thread:v1:${COMPARE}`, compare);
    storage.saved.set('thread:v1:chat:llama:huggyllama/llama-7b', { messages: [], turns: [] });
    storage.saved.set('settings:v1', { dtype: 'q4' });

    const threads = new Threads(storage, clock());
    await threads.open(KEY);
    expect(threads.thread(KEY)).toEqual(v1);
    expect(threads.list(KEY)).toMatchObject([{ title: '예전 질문', createdAt: at, updatedAt: at + 60_000, models: ['ureca07/korean-vicuna-7b-1.1'], messageCount: 2 }]);
    await threads.open(COMPARE);
    expect(threads.thread(COMPARE)).toEqual(compare);
    expect([...storage.saved.keys()].filter((key) => key.startsWith('thread:v1:'))).toEqual([]);
    expect(storage.saved.get('settings:v1')).toEqual({ dtype: 'q4' });

    // Once is enough: a second start reads the index only.
    storage.reads = 0;
    const again = new Threads(storage, clock());
    await again.open(COMPARE);
    expect(again.list(COMPARE)).toHaveLength(1);
    expect(storage.reads).toBe(2); // the index, then the conversation the tab shows
  });
});
