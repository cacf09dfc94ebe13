/** The export formats: JSON that imports back as the same conversation, readable Markdown, and clear refusals. */
import { describe, expect, it } from 'vitest';
import { expectCode } from '../../loader/testing/test-support';
import { parseConversationFile, toConversationFile, MAX_IMPORT_BYTES } from './conversation-file';
import { toMarkdown } from './conversation-markdown';
import { describe as describeThread, type ConversationMeta } from './conversation-store';
import type { AnswerSettings, Thread, UiMessage } from './threads';

const SETTINGS: AnswerSettings = { temperature: 0.7, topK: 40, topP: 0.9, repetitionPenalty: 1.1, maxNewTokens: 512, seed: 0, template: 'auto', systemPrompt: '호기심 많은 USER와 인공지능 ASSISTANT 간의 채팅.', dtype: 'q4', contextLength: 2048 };
const STATS = { promptTokens: 40, prefilledTokens: 40, newTokens: 46, prefillTokensPerSecond: 200, decodeTokensPerSecond: 23, contextLength: 2048, droppedTurns: 0 };
const VICUNA = 'ureca07/korean-vicuna-7b-1.1';
const LLAMA = 'huggyllama/llama-7b';

const answer = (id: string, content: string, repo = VICUNA, extra: Partial<UiMessage> = {}): UiMessage => ({ id, role: 'assistant', content, state: 'done', repo, settings: SETTINGS, stats: STATS, finishReason: 'eos', ...extra });
const chat: Thread = {
  messages: [
    { id: '1', role: 'user', content: '삼국 통일 이후 신라는 어떻게 변화했나요?' },
    answer('2', '통일신라는 **9주 5소경**으로 지방을 나누었습니다.', VICUNA, { ids: [29871, 31606, 30944, 2] }),
    { id: '3', role: 'user', content: '더 자세히' },
    answer('4', '', VICUNA, { state: 'error', error: { code: 'out-of-memory', message: 'GPU allocation failed' }, failedAt: 'generate', stats: undefined }),
  ],
  turns: [],
};
const compare: Thread = {
  messages: [],
  turns: [{ id: 't1', prompt: '피보나치 함수를 파이썬으로', answers: [answer('l', '```python\ndef fib(n): ...\n```'), answer('r', 'def fib', LLAMA, { state: 'stopped', finishReason: 'cancelled' })], sequential: true }],
};
const metaOf = (thread: Thread, title?: string): ConversationMeta => {
  const described = describeThread(thread);
  return { id: 'c', tabKey: 'k', ...described, title: title ?? described.title, renamed: title !== undefined, createdAt: Date.UTC(2025, 0, 2, 3, 4), updatedAt: Date.UTC(2025, 0, 2, 3, 30) };
};
const EXPORTED = new Date(Date.UTC(2025, 0, 3));

/** The conversation as it reads, without the ids an import makes anew. */
const withoutIds = (thread: Thread) => JSON.parse(JSON.stringify(thread, (key, value) => (key === 'id' ? undefined : value)));

const refused = (json: string, message: RegExp) => expectCode(Promise.resolve().then(() => parseConversationFile(json)), 'bad-input', message);

describe('JSON export', () => {
  it('is the full, versioned record, and imports back as the same conversation', () => {
    const file = toConversationFile(metaOf(chat, '신라 이야기'), chat, 'vicuna', EXPORTED);
    expect(file).toMatchObject({ format: 'korean-vicuna-conversation', version: 1, kind: 'chat', tab: 'vicuna', title: '신라 이야기', renamed: true, createdAt: '2025-01-02T03:04:00.000Z', models: [VICUNA], exportedAt: '2025-01-03T00:00:00.000Z' });
    const imported = parseConversationFile(JSON.stringify(file, null, 2));
    expect(imported.kind).toBe('chat');
    expect(imported.tab).toBe('vicuna');
    expect(imported.about).toEqual({ title: '신라 이야기', renamed: true, createdAt: Date.UTC(2025, 0, 2, 3, 4), updatedAt: Date.UTC(2025, 0, 2, 3, 30) });
    expect(withoutIds(imported.thread)).toEqual(withoutIds(chat));
    expect(imported.thread.messages[0].id).not.toBe('1');
  });

  it('round-trips a Compare session with both answers', () => {
    const imported = parseConversationFile(JSON.stringify(toConversationFile(metaOf(compare), compare, 'compare', EXPORTED)));
    expect(imported.kind).toBe('compare');
    expect(imported.about.renamed).toBe(false);
    expect(withoutIds(imported.thread)).toEqual(withoutIds(compare));
  });

  it('refuses what is not JSON, not ours, a newer version, or damaged, saying why', async () => {
    const good = toConversationFile(metaOf(chat), chat, 'vicuna', EXPORTED);
    await refused('{"format": ', /JSON 파일이 아닙니다 \(invalid JSON\)/);
    await refused('[1, 2]', /파일 값이 올바르지 않습니다/);
    await refused(JSON.stringify({ model: 'gpt', messages: [] }), /이 앱의 대화 파일이 아닙니다 \(not a conversation export\)/);
    await refused(JSON.stringify({ ...good, version: 2 }), /지원하지 않는 파일 버전입니다 \(unsupported version 2\)/);
    await refused(JSON.stringify({ ...good, messages: [] }), /empty conversation/);
    await refused(JSON.stringify({ ...good, messages: [{ role: 'system', content: 'x' }] }), /messages\[0\]\.role/);
    await refused(JSON.stringify({ ...good, messages: [{ role: 'user', content: 42 }] }), /messages\[0\]\.content/);
    await refused(JSON.stringify({ ...good, messages: [{ ...chat.messages[1], stats: { newTokens: 'many' } }] }), /messages\[0\]\.stats\.promptTokens/);
    await refused(JSON.stringify({ ...good, messages: [{ ...chat.messages[1], ids: [1, -2] }] }), /messages\[0\]\.ids/);
    await refused(JSON.stringify({ ...good, createdAt: 'yesterday' }), /createdAt/);
    await refused(JSON.stringify({ ...toConversationFile(metaOf(compare), compare, 'compare', EXPORTED), turns: [{ prompt: 'q', answers: [chat.messages[1]] }] }), /turns\[0\]\.answers/);
    await refused(' '.repeat(MAX_IMPORT_BYTES + 1), /파일이 너무 큽니다 \(file too large\)/);
  });

  it('drops fields it does not know and settles answers that were streaming', () => {
    const file = toConversationFile(metaOf(chat), chat, 'vicuna', EXPORTED);
    const tampered = { ...file, messages: [{ ...file.messages[0], onclick: 'alert(1)' }, { ...file.messages[1], state: 'streaming' }] };
    const imported = parseConversationFile(JSON.stringify(tampered));
    expect(Object.keys(imported.thread.messages[0]).sort()).toEqual(['content', 'id', 'role']);
    expect(imported.thread.messages[1].state).toBe('stopped');
  });
});

describe('Markdown export', () => {
  it('reads as the conversation: title, model, settings, date, each question and answer with its speed', () => {
    const markdown = toMarkdown(metaOf(chat, '신라 이야기'), chat, EXPORTED);
    expect(markdown.startsWith('# 신라 이야기\n')).toBe(true);
    expect(markdown).toContain(`- 모델 (model): \`${VICUNA}\``);
    expect(markdown).toContain('temperature 0.7 · top-k 40 · top-p 0.9');
    expect(markdown).toContain('- 시스템 프롬프트 (system prompt): 호기심 많은 USER');
    expect(markdown).toMatch(/- 날짜 \(date\): 2025-01-0\d \d\d:04 – 2025-01-0\d \d\d:30 \(UTC[+-]\d\d:\d\d\)/);
    expect(markdown).toContain('## 질문 1 (USER)\n\n삼국 통일 이후 신라는 어떻게 변화했나요?\n\n### 답변 (ASSISTANT · korean-vicuna-7b-1.1)\n\n통일신라는 **9주 5소경**으로 지방을 나누었습니다.');
    // 23 tok/s over 46 tokens that gave 26 characters (no whitespace): 13 characters a second.
    expect(markdown).toContain('*생성 23.0 tok/s · 초당 13.0자 · 46 토큰*');
    expect(markdown).toContain('## 질문 2 (USER)\n\n더 자세히');
    expect(markdown).toContain('*오류 (error, out-of-memory): GPU allocation failed*');
  });

  it('shows both answers of each Compare question', () => {
    const markdown = toMarkdown(metaOf(compare), compare, EXPORTED);
    expect(markdown).toContain(`- 모델 (model): \`${VICUNA}\` vs \`${LLAMA}\``);
    expect(markdown).toContain('## 질문 1 (USER)\n\n피보나치 함수를 파이썬으로\n\n### 답변 (ASSISTANT · korean-vicuna-7b-1.1)\n\n```python\ndef fib(n): ...\n```');
    expect(markdown).toContain('### 답변 (ASSISTANT · llama-7b)\n\ndef fib');
    expect(markdown).toContain('중지됨 (stopped)');
  });
});
