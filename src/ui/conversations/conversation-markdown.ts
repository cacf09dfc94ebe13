/**
 * A conversation (or a Compare session) as Markdown a person reads: title, models, settings and
 * dates first, then each question with its answer (Compare: both answers), each answer with its
 * speed. Answers are Markdown already and go in as they are.
 */
import { answersOf, type ConversationMeta } from './conversation-store';
import { charsPerSecond, formatCharsPerSecond, formatDateTime, formatTokensPerSecond } from '../common/format';
import { shortName } from '../common/tabs';
import type { AnswerSettings, Thread, UiMessage } from './threads';

export function toMarkdown(meta: ConversationMeta, thread: Thread, exportedAt: Date): string {
  const settings = answersOf(thread).findLast((answer) => answer.settings)?.settings;
  const lines = [
    `# ${meta.title}`,
    '',
    `- 모델 (model): ${meta.models.map((repo) => `\`${repo}\``).join(meta.kind === 'compare' ? ' vs ' : ', ') || '—'}`,
    `- 날짜 (date): ${formatDateTime(meta.createdAt)}${meta.updatedAt - meta.createdAt >= 60_000 ? ` – ${formatDateTime(meta.updatedAt)}` : ''} (${timeZone(exportedAt)})`,
    `- 설정 (settings): ${settings ? describeSettings(settings) : '기록 없음 (not recorded)'}`,
  ];
  if (settings?.systemPrompt) lines.push(`- 시스템 프롬프트 (system prompt): ${settings.systemPrompt.replace(/\s+/g, ' ')}`);
  if (meta.kind === 'compare') lines.push(`- 비교 (Compare): 질문 ${thread.turns.length}개, 질문마다 두 모델의 답변`);

  const questions = meta.kind === 'compare' ? thread.turns.map((turn) => ({ prompt: turn.prompt, answers: turn.answers })) : pairs(thread.messages);
  questions.forEach(({ prompt, answers }, index) => {
    lines.push('', '---', '', `## 질문 ${index + 1} (USER)`, '', prompt);
    for (const answer of answers) lines.push('', `### 답변 (ASSISTANT${answer.repo ? ` · ${shortName(answer.repo)}` : ''})`, '', ...answerLines(answer, settings));
  });
  lines.push('', '---', '', `*${formatDateTime(exportedAt.getTime())}에 내보냄 (exported) · 한국어 Vicuna WebGPU*`, '');
  return lines.join('\n');
}

/** A chat's messages as questions, each with the answer(s) that followed it. */
function pairs(messages: UiMessage[]): { prompt: string; answers: UiMessage[] }[] {
  const result: { prompt: string; answers: UiMessage[] }[] = [];
  for (const message of messages) {
    if (message.role === 'user') result.push({ prompt: message.content, answers: [] });
    else if (result.length > 0) result[result.length - 1].answers.push(message);
    else result.push({ prompt: '', answers: [message] });
  }
  return result;
}

function answerLines(answer: UiMessage, shared: AnswerSettings | undefined): string[] {
  const lines = [answer.content || '*(답변 없음 / no answer)*'];
  if (answer.error) lines.push('', `*오류 (error, ${answer.error.code}): ${answer.error.message}*`);
  const facts: string[] = [];
  if (answer.stats) {
    facts.push(`생성 ${formatTokensPerSecond(answer.stats.decodeTokensPerSecond)}`, formatCharsPerSecond(charsPerSecond(answer.content, answer.stats)), `${answer.stats.newTokens} 토큰`);
  }
  if (answer.state === 'stopped') facts.push('중지됨 (stopped)');
  if (answer.settings && shared && describeSettings(answer.settings) !== describeSettings(shared)) facts.push(`설정: ${describeSettings(answer.settings)}`);
  if (facts.length > 0) lines.push('', `*${facts.join(' · ')}*`);
  return lines;
}

function describeSettings(settings: AnswerSettings): string {
  return [
    `temperature ${settings.temperature}`,
    `top-k ${settings.topK}`,
    `top-p ${settings.topP}`,
    `반복 페널티 (repetition penalty) ${settings.repetitionPenalty}`,
    `최대 생성 토큰 (max new tokens) ${settings.maxNewTokens}`,
    `seed ${settings.seed}`,
    settings.dtype,
    `컨텍스트 (context) ${settings.contextLength}`,
  ].join(' · ');
}

function timeZone(at: Date): string {
  const minutes = -at.getTimezoneOffset();
  const sign = minutes >= 0 ? '+' : '-';
  const abs = Math.abs(minutes);
  return `UTC${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}
