import { useMemo } from 'react';
import type { FinishReason } from '../../chat/generate';
import type { GenerationStats } from '../../worker/protocol';
import { charsPerSecond, formatCharsPerSecond, formatTokensPerSecond } from '../common/format';

const FINISH_NOTES: Partial<Record<FinishReason, string>> = {
  length: '최대 생성 길이에 도달해 멈췄습니다 (max new tokens).',
  'context-full': '컨텍스트가 가득 차 멈췄습니다 (context full): 새 대화를 시작하세요.',
  cancelled: '중지됨 (stopped).',
};

/** Speeds (tok/s, and characters/s, which fits Korean) and context use of one answer, and what was cut to make it fit. */
export function StatsLine({ stats, finishReason, text }: { stats: GenerationStats; finishReason?: FinishReason; text: string }) {
  const used = stats.promptTokens + stats.newTokens;
  const note = finishReason ? FINISH_NOTES[finishReason] : undefined;
  // Counting the answer's characters walks all of it; every answer's line re-renders per streamed token.
  const charRate = useMemo(() => charsPerSecond(text, stats), [text, stats]);
  return (
    <div className="mt-1 space-y-1 text-xs text-zinc-500 dark:text-zinc-400" data-testid="stats">
      <div className="flex flex-wrap gap-x-3">
        <span data-testid="prefill" title={`${stats.prefilledTokens} of ${stats.promptTokens} prompt tokens computed (${stats.promptTokens - stats.prefilledTokens} reused from the KV cache)`}>
          프리필 {stats.prefilledTokens} 토큰 · {formatTokensPerSecond(stats.prefillTokensPerSecond)}
        </span>
        <span data-testid="decode-rate">생성 {formatTokensPerSecond(stats.decodeTokensPerSecond)}</span>
        <span data-testid="char-rate" title="characters per second: 한글은 음절당 약 2.3 토큰이라 tok/s는 글이 나오는 속도를 부풀립니다">
          {formatCharsPerSecond(charRate)} (chars/s)
        </span>
        <span data-testid="context-use">
          컨텍스트 {used} / {stats.contextLength} 토큰
        </span>
      </div>
      {stats.droppedTurns > 0 && (
        <div className="notice" data-testid="dropped-turns">
          대화가 컨텍스트({stats.contextLength} 토큰)를 넘어 오래된 메시지 {stats.droppedTurns}개를 모델 입력에서 뺐습니다. 시스템 프롬프트는 유지됩니다. (Oldest turns dropped to fit.)
        </div>
      )}
      {note && <div>{note}</div>}
    </div>
  );
}
