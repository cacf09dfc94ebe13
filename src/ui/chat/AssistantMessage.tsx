import { lazy, Suspense, useState, type ReactNode } from 'react';
import { isPending, type UiMessage } from '../conversations/threads';
import { ErrorPanel } from '../common/ErrorPanel';

// The markdown stack (parser, sanitizer, highlight.js grammars) is most of the app's code:
// loaded when the first answer shows, with the plain text standing in meanwhile.
const Markdown = lazy(() => import('./Markdown').then((module) => ({ default: module.Markdown })));
import { StatsLine } from './StatsLine';
import { useAnnounceAnswer } from './useAnnounceAnswer';

const STATE_LABELS: Partial<Record<NonNullable<UiMessage['state']>, string>> = {
  waiting: '차례를 기다리는 중…',
  loading: '모델 불러오는 중…',
  streaming: '답변 중…',
  stopped: '중지됨',
};

interface Props {
  message: UiMessage;
  onRegenerate?: () => void;
  onSettings?: () => void;
  label?: string;
  /** The token-probability view of a finished answer (TokenView). */
  tokenView?: ReactNode;
  /**
   * Read to screen readers whole, after this name, once it ends (Compare's two answers); without
   * it, sentence by sentence as it streams (useAnnounceAnswer).
   */
  announceAs?: string;
}

export function AssistantMessage({ message, onRegenerate, onSettings, label, tokenView, announceAs }: Props) {
  const [copied, setCopied] = useState(false);
  const busy = isPending(message);
  useAnnounceAnswer(message, announceAs === undefined ? 'sentences' : 'settled', announceAs);
  const copy = () => {
    void navigator.clipboard?.writeText(message.content).then(() => {
      setCopied(true);
      setTimeout(() => setCopied(false), 1500);
    });
  };
  return (
    <article data-testid="message-assistant" data-state={message.state} data-raw={message.content} data-new-tokens={message.stats?.newTokens} data-prefill-tokens={message.stats?.prefilledTokens} className="min-w-0 rounded-2xl bg-white p-3 shadow-sm ring-1 ring-zinc-200 dark:bg-zinc-900 dark:ring-zinc-800">
      {label && <div className="mb-1 text-xs font-semibold text-zinc-500">{label}</div>}
      {message.content ? (
        <div data-testid="answer-text">
          <Suspense fallback={<div className="whitespace-pre-wrap">{message.content}</div>}>
            <Markdown text={message.content} />
          </Suspense>
        </div>
      ) : (
        !message.error && <div className="text-sm text-zinc-500 dark:text-zinc-400">{STATE_LABELS[message.state ?? 'waiting']}</div>
      )}
      {busy && message.content && <span className="inline-block h-4 w-2 animate-pulse bg-zinc-400 align-middle" aria-hidden />}
      {message.error && message.failedAt === 'load' && (
        <p className="text-sm text-rose-700 dark:text-rose-300" data-testid="answer-load-failed">
          모델을 불러오지 못해 답하지 못했습니다: {message.error.message}
        </p>
      )}
      {message.error && message.failedAt !== 'load' && <ErrorPanel error={message.error} compact onRetry={onRegenerate} onSettings={onSettings} />}
      {message.stats && <StatsLine stats={message.stats} finishReason={message.finishReason} text={message.content} />}
      {message.state === 'stopped' && !message.stats && <div className="mt-1 text-xs text-zinc-500">중지됨 (stopped)</div>}
      {!busy && (
        <div className="mt-2 flex gap-1">
          {message.content && (
            <button type="button" className="btn-ghost" data-testid="copy-answer" onClick={copy}>
              {copied ? '복사됨 ✓' : '복사 (Copy)'}
            </button>
          )}
          {onRegenerate && (
            <button type="button" className="btn-ghost" data-testid="regenerate" onClick={onRegenerate}>
              다시 생성 (Regenerate)
            </button>
          )}
        </div>
      )}
      {!busy && message.content && tokenView}
    </article>
  );
}
