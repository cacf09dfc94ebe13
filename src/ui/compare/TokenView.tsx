import { useState } from 'react';
import type { ChatMessage } from '../../chat/template';
import { useServices } from '../shell/useServices';
import { chatSettings } from '../settings/settings';
import type { ModelTab } from '../common/tabs';
import type { UiMessage } from '../conversations/threads';
import { useScores } from './useScores';
import { ErrorPanel } from '../common/ErrorPanel';
import { formatPerplexity } from '../common/format';
import { TokenSpans } from './TokenSpans';

interface Props {
  message: UiMessage;
  /** The model that wrote the answer, then (in Compare) the other one. */
  models: ModelTab[];
  /** The conversation the answer replied to, as its model saw it. */
  history: () => ChatMessage[];
  /** Whose prompt settings (template, system prompt) frame the answer. */
  settingsTab: string;
}

/**
 * An answer's tokens coloured by their probability under the model that wrote it, and in
 * Compare under the other model too: how surprised base LLaMA is by the fine-tune's Korean.
 */
export function TokenView({ message, models, history, settingsTab }: Props) {
  const { settings } = useServices();
  const [open, setOpen] = useState(false);
  const { scores, score: scoreUnder } = useScores();
  const score = (model: ModelTab) => {
    // The prompt format the answer was written in (recorded with it), else the tab's today.
    const { template, systemPrompt } = message.settings ?? chatSettings(settings.tab(settingsTab));
    // The writer's own tokens are scored as it wrote them; another model reads the text.
    const ids = model.repo === message.repo ? message.ids : undefined;
    return scoreUnder(model, { kind: 'answer', history: history(), answer: message.content, settings: { template, systemPrompt }, ids, droppedTurns: message.stats?.droppedTurns });
  };
  const toggle = () => {
    setOpen(!open);
    if (!open && !scores[models[0].id]) void score(models[0]);
  };
  return (
    <div data-testid="token-view" className="mt-2 w-fit max-w-full">
      <button type="button" className="btn-ghost" aria-expanded={open} data-testid="token-view-toggle" onClick={toggle}>
        {open ? '토큰 확률 닫기' : '토큰 확률 (Token probabilities)'}
      </button>
      {open && (
        <div className="mt-1 space-y-3">
          {models.map((model, index) => {
            const scoring = scores[model.id];
            const who = index === 0 ? '이 답을 쓴 모델' : '다른 모델';
            if (!scoring) {
              return (
                <button key={model.id} type="button" className="btn-secondary" data-testid="score-other" onClick={() => void score(model)}>
                  {who}로 채점: {model.title} (score under the other model)
                </button>
              );
            }
            return (
              <section key={model.id} data-testid="token-scores" data-model={model.repo} data-status={scoring.status}>
                <div className="mb-1 text-xs font-semibold text-zinc-500">
                  {who} · {model.title}
                  {scoring.status === 'done' && (
                    <span data-testid="token-perplexity">
                      {' '}
                      · 퍼플렉서티 {formatPerplexity(scoring.result.perplexity)} · 토큰 {scoring.result.tokens}개
                    </span>
                  )}
                </div>
                {scoring.status === 'loading' && <p className="text-sm text-zinc-500">채점 중… (scoring)</p>}
                {scoring.status === 'error' && <ErrorPanel error={scoring.error} compact onRetry={() => void score(model)} />}
                {scoring.status === 'done' && <TokenSpans spans={scoring.result.spans} />}
              </section>
            );
          })}
        </div>
      )}
    </div>
  );
}
