import { useState } from 'react';
import { formatPerplexity } from '../common/format';
import type { CompareTab } from '../common/tabs';
import { useScores } from './useScores';
import { ErrorPanel } from '../common/ErrorPanel';
import { TokenSpans } from './TokenSpans';

/** "Score a text": pasted text's per-token log-probabilities and perplexity under both models. */
export function ScoreTextPanel({ tab, busy }: { tab: CompareTab; busy: boolean }) {
  const [text, setText] = useState('');
  const { scores: results, score, reset } = useScores();
  const [scoring, setScoring] = useState(false);
  const run = async () => {
    setScoring(true);
    reset();
    // One model after the other: when the GPU holds one, the second load evicts the first.
    for (const model of tab.models) await score(model, { kind: 'text', text });
    setScoring(false);
  };
  return (
    <details open className="rounded-xl border border-zinc-200 p-3 dark:border-zinc-800">
      <summary className="section-title cursor-pointer">텍스트 채점 (Score a text)</summary>
      <div className="mt-2 space-y-2">
        <textarea
          className="input min-h-20 w-full"
          data-testid="score-text"
          placeholder="한국어 텍스트를 붙여 넣으면 두 모델이 각 토큰을 얼마나 예상했는지 보여 줍니다. (Paste Korean text.)"
          value={text}
          onChange={(event) => setText(event.target.value)}
        />
        <button type="button" className="btn-primary" data-testid="score-text-run" disabled={scoring || busy || text.trim() === ''} onClick={() => void run()}>
          두 모델로 채점 (Score under both models)
        </button>
        <div className="grid gap-3 md:grid-cols-2">
          {tab.models.map((model) => {
            const result = results[model.id];
            if (!result) return null;
            return (
              <section key={model.id} data-testid="score-text-result" data-model={model.repo} data-status={result.status} className="min-w-0">
                <div className="mb-1 text-xs font-semibold text-zinc-500">
                  {model.title}
                  {result.status === 'done' && (
                    <span data-testid="score-perplexity" data-value={result.result.perplexity}>
                      {' '}
                      · 퍼플렉서티 (perplexity) {formatPerplexity(result.result.perplexity)} · 토큰 {result.result.tokens}개 · 평균 ln p{' '}
                      {(-Math.log(result.result.perplexity)).toFixed(3)}
                    </span>
                  )}
                </div>
                {result.status === 'loading' && <p className="text-sm text-zinc-500">채점 중… (scoring)</p>}
                {result.status === 'error' && <ErrorPanel error={result.error} compact />}
                {result.status === 'done' && <TokenSpans spans={result.result.spans} />}
              </section>
            );
          })}
        </div>
      </div>
    </details>
  );
}
