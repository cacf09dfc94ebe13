/**
 * A conversation (or a Compare session) as a JSON file: the full record, versioned, for backup
 * and for moving it to another browser. Importing checks every field and builds a new record
 * from what it knows (fresh ids, no stray fields); a foreign or damaged file is a bad-input
 * error that says what is wrong, and nothing is saved.
 */
import { EngineError, type ErrorCode } from '../../errors';
import { autoTitle, type ConversationMeta } from './conversation-store';
import { formatBytes } from '../common/format';
import { newId, settleThread, type AnswerSettings, type CompareTurn, type Thread, type UiMessage } from './threads';

export const CONVERSATION_FORMAT = 'korean-vicuna-conversation';
export const CONVERSATION_VERSION = 1;
export const MAX_IMPORT_BYTES = 32 << 20;

export interface ConversationFile {
  format: typeof CONVERSATION_FORMAT;
  version: typeof CONVERSATION_VERSION;
  exportedAt: string;
  kind: 'chat' | 'compare';
  /** Id of the tab it was saved in: vicuna, llama, custom or compare. */
  tab: string;
  title: string;
  renamed: boolean;
  createdAt: string;
  updatedAt: string;
  models: string[];
  /** A chat's messages (empty for Compare). */
  messages: UiMessage[];
  /** Compare's questions with both answers (empty for a chat). */
  turns: CompareTurn[];
}

export interface ImportedConversation {
  kind: 'chat' | 'compare';
  tab: string;
  thread: Thread;
  about: Pick<ConversationMeta, 'title' | 'renamed' | 'createdAt' | 'updatedAt'>;
}

export function toConversationFile(meta: ConversationMeta, thread: Thread, tab: string, exportedAt: Date): ConversationFile {
  return {
    format: CONVERSATION_FORMAT,
    version: CONVERSATION_VERSION,
    exportedAt: exportedAt.toISOString(),
    kind: meta.kind,
    tab,
    title: meta.title,
    renamed: meta.renamed === true,
    createdAt: new Date(meta.createdAt).toISOString(),
    updatedAt: new Date(meta.updatedAt).toISOString(),
    models: meta.models,
    messages: meta.kind === 'chat' ? thread.messages : [],
    turns: meta.kind === 'compare' ? thread.turns : [],
  };
}

const bad = (message: string, field?: string) => new EngineError('bad-input', message, field ? { field } : undefined);

function fail(path: string, expected: string): never {
  throw bad(`파일의 ${path} 값이 올바르지 않습니다 (invalid field: expected ${expected}). 이 앱에서 내보낸 JSON 파일인지 확인하세요.`, path);
}

export function checkImportSize(bytes: number): void {
  if (bytes > MAX_IMPORT_BYTES) throw bad(`파일이 너무 큽니다 (file too large): ${formatBytes(bytes)}, 최대 ${formatBytes(MAX_IMPORT_BYTES)}.`);
}

/** Reads a JSON export; throws EngineError('bad-input') naming what is wrong. */
export function parseConversationFile(json: string): ImportedConversation {
  checkImportSize(json.length);
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch (error) {
    throw bad(`JSON 파일이 아닙니다 (invalid JSON): ${error instanceof Error ? error.message : String(error)}`);
  }
  const file = record(data, '파일');
  if (file.format !== CONVERSATION_FORMAT) {
    throw bad(`이 앱의 대화 파일이 아닙니다 (not a conversation export): "format"이 "${CONVERSATION_FORMAT}"이어야 합니다.`, 'format');
  }
  if (file.version !== CONVERSATION_VERSION) {
    throw bad(`지원하지 않는 파일 버전입니다 (unsupported version ${JSON.stringify(file.version)}): 이 앱은 version ${CONVERSATION_VERSION}을 읽습니다.`, 'version');
  }
  const kind = oneOf(file.kind, 'kind', ['chat', 'compare'] as const);
  const thread: Thread =
    kind === 'chat'
      ? { messages: list(file.messages, 'messages').map((m, i) => message(m, `messages[${i}]`)), turns: [] }
      : { messages: [], turns: list(file.turns, 'turns').map((t, i) => turn(t, `turns[${i}]`)) };
  if (thread.messages.length === 0 && thread.turns.length === 0) throw bad('대화에 메시지가 없습니다 (empty conversation).');
  const createdAt = time(file.createdAt, 'createdAt');
  const title = optional(file.title, 'title', text)?.replace(/\s+/g, ' ').trim().slice(0, 200);
  return {
    kind,
    tab: optional(file.tab, 'tab', text) ?? kind,
    thread: settleThread(thread),
    about: { title: title || autoTitle(thread), renamed: file.renamed === true && !!title, createdAt, updatedAt: Math.max(createdAt, time(file.updatedAt, 'updatedAt')) },
  };
}

const STATES = ['waiting', 'loading', 'streaming', 'done', 'stopped', 'error'] as const;
const FINISH_REASONS = ['eos', 'stop-string', 'length', 'context-full', 'cancelled'] as const;
// Each ErrorCode once, as a Record so the compiler says when the set changes.
const KNOWN_ERRORS: Record<ErrorCode, true> = {
  'webgpu-unavailable': true,
  unsupported: true,
  'out-of-memory': true,
  'device-lost': true,
  'shader-compile': true,
  'bad-model': true,
  'bad-input': true,
  'download-failed': true,
  unauthorized: true,
  'not-found': true,
  'integrity-failed': true,
  'quota-exceeded': true,
  'context-full': true,
  cancelled: true,
  internal: true,
};
const ERROR_CODES = Object.keys(KNOWN_ERRORS) as ErrorCode[];
const STATS_FIELDS = ['promptTokens', 'prefilledTokens', 'newTokens', 'prefillTokensPerSecond', 'decodeTokensPerSecond', 'contextLength', 'droppedTurns'];
const SETTINGS_NUMBERS = ['temperature', 'topK', 'topP', 'repetitionPenalty', 'maxNewTokens', 'seed', 'contextLength'];

function message(value: unknown, path: string): UiMessage {
  const m = record(value, path);
  const result: UiMessage = { id: newId(), role: oneOf(m.role, `${path}.role`, ['user', 'assistant'] as const), content: text(m.content, `${path}.content`) };
  const state = optional(m.state, `${path}.state`, (v, p) => oneOf(v, p, STATES));
  const repo = optional(m.repo, `${path}.repo`, text);
  const stats = optional(m.stats, `${path}.stats`, (v, p) => numbers(v, p, STATS_FIELDS) as unknown as UiMessage['stats']);
  const finishReason = optional(m.finishReason, `${path}.finishReason`, (v, p) => oneOf(v, p, FINISH_REASONS));
  const failedAt = optional(m.failedAt, `${path}.failedAt`, (v, p) => oneOf(v, p, ['load', 'generate'] as const));
  const error = optional(m.error, `${path}.error`, (v, p) => {
    const e = record(v, p);
    return { code: oneOf(e.code, `${p}.code`, ERROR_CODES), message: text(e.message, `${p}.message`) };
  });
  const settings = optional(m.settings, `${path}.settings`, answerSettings);
  const ids = optional(m.ids, `${path}.ids`, tokenIds);
  return Object.assign(result, Object.fromEntries(Object.entries({ state, repo, stats, finishReason, failedAt, error, settings, ids }).filter(([, v]) => v !== undefined)));
}

function turn(value: unknown, path: string): CompareTurn {
  const t = record(value, path);
  const answers = list(t.answers, `${path}.answers`).map((a, i) => message(a, `${path}.answers[${i}]`));
  if (answers.length !== 2 || answers.some((a) => a.role !== 'assistant')) fail(`${path}.answers`, 'two assistant answers');
  const result: CompareTurn = { id: newId(), prompt: text(t.prompt, `${path}.prompt`), answers };
  if (t.sequential === true) result.sequential = true;
  return result;
}

function answerSettings(value: unknown, path: string): AnswerSettings {
  const s = record(value, path);
  return {
    ...(numbers(s, path, SETTINGS_NUMBERS) as unknown as AnswerSettings),
    dtype: text(s.dtype, `${path}.dtype`),
    template: optional(s.template, `${path}.template`, (v, p) => oneOf(v, p, ['auto', 'vicuna', 'raw'] as const)),
    systemPrompt: optional(s.systemPrompt, `${path}.systemPrompt`, text),
  };
}

/** `fields` must be there; every other finite number is kept too (fields a later version adds). */
function numbers(value: unknown, path: string, fields: string[]): Record<string, number> {
  const o = record(value, path);
  for (const field of fields) if (typeof o[field] !== 'number' || !Number.isFinite(o[field])) fail(`${path}.${field}`, 'a number');
  return Object.fromEntries(Object.entries(o).filter((entry): entry is [string, number] => typeof entry[1] === 'number' && Number.isFinite(entry[1])));
}

/** The token ids an answer was written as (the token view scores them): whole numbers >= 0. */
function tokenIds(value: unknown, path: string): number[] {
  const ids = list(value, path);
  if (!ids.every((id) => Number.isSafeInteger(id) && (id as number) >= 0)) fail(path, 'a list of token ids');
  return ids as number[];
}

function record(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(path, 'an object');
  return value as Record<string, unknown>;
}

function list(value: unknown, path: string): unknown[] {
  if (!Array.isArray(value)) fail(path, 'a list');
  return value;
}

function text(value: unknown, path: string): string {
  if (typeof value !== 'string') fail(path, 'text');
  return value;
}

function oneOf<T extends string>(value: unknown, path: string, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) fail(path, `one of ${allowed.join(', ')}`);
  return value as T;
}

function optional<T>(value: unknown, path: string, read: (value: unknown, path: string) => T): T | undefined {
  return value === undefined || value === null ? undefined : read(value, path);
}

function time(value: unknown, path: string): number {
  const ms = Date.parse(text(value, path));
  if (!Number.isFinite(ms)) fail(path, 'an ISO 8601 date');
  return ms;
}
