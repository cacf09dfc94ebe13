import { useCallback, useState } from 'react';
import type { ScoredText, ScoreInput } from '../../chat/score';
import { toErrorData, type ErrorData } from '../../errors';
import type { ModelTab } from '../common/tabs';
import { useServices } from '../shell/useServices';

export type Scoring = { status: 'loading' } | { status: 'done'; result: ScoredText } | { status: 'error'; error: ErrorData };

/**
 * Scores of one text or answer under models, by model tab id: `score` loads the model when
 * needed (bench.scores) and records loading, the result or the error; `reset` forgets them all.
 */
export function useScores(): { scores: Record<string, Scoring>; score(model: ModelTab, input: ScoreInput): Promise<void>; reset(): void } {
  const { bench } = useServices();
  const [scores, setScores] = useState<Record<string, Scoring>>({});
  const score = useCallback(
    async (model: ModelTab, input: ScoreInput) => {
      setScores((all) => ({ ...all, [model.id]: { status: 'loading' } }));
      try {
        const result = await bench.scores.score(model, input);
        setScores((all) => ({ ...all, [model.id]: { status: 'done', result } }));
      } catch (error) {
        setScores((all) => ({ ...all, [model.id]: { status: 'error', error: toErrorData(error) } }));
      }
    },
    [bench],
  );
  const reset = useCallback(() => setScores({}), []);
  return { scores, score, reset };
}
