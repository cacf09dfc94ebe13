import { describe, expect, it } from 'vitest';
import type { ConversationMeta } from './conversation-store';
import { searchConversations } from './conversation-search';
import type { Thread } from './threads';

const meta = (id: string, title: string): ConversationMeta => ({ id, tabKey: 'k', kind: 'chat', title, createdAt: 0, updatedAt: 0, models: [], messageCount: 2 });
const chat = (question: string, reply: string): Thread => ({
  messages: [
    { id: 'q', role: 'user', content: question },
    { id: 'a', role: 'assistant', content: reply },
  ],
  turns: [],
});

const metas = [meta('silla', '역사 질문'), meta('hawaii', '하와이 3일 여행'), meta('code', 'Fibonacci in Python')];
const threads: Record<string, Thread> = {
  silla: chat('삼국 통일 이후는?', '통일신라는 9주 5소경으로 지방을 나누었습니다.'),
  hawaii: chat('하와이 여행 예산', '첫째 날: 와이키키 해변'),
  code: { messages: [], turns: [{ id: 't', prompt: 'def fibonacci', answers: [{ id: 'l', role: 'assistant', content: 'FIBONACCI(n) returns' }, { id: 'r', role: 'assistant', content: '재귀 대신 반복문' }] }] },
};
const ids = (query: string, read: Record<string, Thread> = threads) => searchConversations(metas, query, (id) => read[id]).map((hit) => hit.meta.id);

describe('conversation search', () => {
  it('finds Korean substrings in messages (신라 finds 통일신라), with the words around the match', () => {
    expect(ids('신라')).toEqual(['silla']);
    const [hit] = searchConversations(metas, '신라', (id) => threads[id]);
    expect(hit.snippet).toEqual({ before: '통일', match: '신라', after: '는 9주 5소경으로 지방을 나누었습니다.' });
  });

  it('matches titles, ignores case, and needs every word somewhere in the conversation', () => {
    expect(ids('하와이')).toEqual(['hawaii']);
    expect(ids('fibonacci')).toEqual(['code']);
    expect(ids('하와이 와이키키')).toEqual(['hawaii']);
    expect(ids('하와이 신라')).toEqual([]);
    expect(ids('반복문')).toEqual(['code']); // both sides of a Compare turn are searched
    expect(ids('   ')).toEqual(['silla', 'hawaii', 'code']);
  });

  it('finds text typed or saved as decomposed jamo (NFD)', () => {
    expect(ids('신라'.normalize('NFD'))).toEqual(['silla']);
    expect(ids('통일신라', { ...threads, silla: chat('q', '통일신라'.normalize('NFD')) })).toEqual(['silla']);
  });

  it('matches only titles of conversations whose messages are not read yet', () => {
    expect(ids('신라', {})).toEqual([]);
    expect(ids('하와이', {})).toEqual(['hawaii']);
  });
});
