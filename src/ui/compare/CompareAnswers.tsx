import { useEffect, useRef } from 'react';
import { focusIsLost } from '../common/focus';
import { sideHistory } from './compare-controller';
import { blindOrder } from '../../eval/votes';
import { formatTokensPerSecond } from '../common/format';
import { useServices } from '../shell/useServices';
import { useStore } from '../common/useStore';
import type { CompareTab } from '../common/tabs';
import { isPending, type CompareTurn } from '../conversations/threads';
import { AssistantMessage } from '../chat/AssistantMessage';
import { TokenView } from './TokenView';
import { VERDICT_LABEL, VoteButtons } from './VoteButtons';

const LETTERS = ['A', 'B'];

/**
 * One Compare question's two answers, side by side with their models' names and speeds; in
 * blind mode as A and B, in an order drawn from the turn's id (so a reload shows the same
 * sides), without names, speeds or token views until the vote.
 */
export function CompareAnswers({ tab, turn, turns, blind, onSettings }: { tab: CompareTab; turn: CompareTurn; turns: CompareTurn[]; blind: boolean; onSettings: () => void }) {
  const { bench } = useServices();
  const vote = useStore(bench.votes.votes).find((v) => v.key === turn.id);
  const order = blind ? blindOrder(turn.id) : [0, 1];
  const named = !blind || vote !== undefined;
  const answered = turn.answers.every((answer) => !isPending(answer) && answer.content !== '' && answer.state !== 'error');
  // A vote from the keyboard takes its buttons away: focus goes to the result, which names the models.
  const result = useRef<HTMLParagraphElement>(null);
  const voted = vote !== undefined;
  useEffect(() => {
    if (voted && focusIsLost()) result.current?.focus();
  }, [voted]);
  return (
    <>
      <div className="grid gap-3 md:grid-cols-2">
        {order.map((side, shown) => {
          const answer = turn.answers[side];
          const model = tab.models[side];
          const name = `${model.title}${answer.stats ? ` · ${formatTokensPerSecond(answer.stats.decodeTokensPerSecond)}` : ''}`;
          const label = blind ? (vote ? `${LETTERS[shown]} · ${name}` : LETTERS[shown]) : name;
          return (
            <div
              key={answer.id}
              data-testid={`compare-answer-${shown}`}
              data-blind={blind ? (vote ? 'revealed' : 'hidden') : undefined}
              data-model={blind && vote ? model.repo : undefined}
              className="min-w-0"
            >
              <AssistantMessage
                message={named ? answer : { ...answer, stats: undefined }}
                onSettings={onSettings}
                label={label}
                announceAs={named ? model.title : LETTERS[shown]}
                tokenView={named ? <TokenView message={answer} models={[model, tab.models[1 - side]]} history={() => sideHistory(turns, turn.id, side)} settingsTab="compare" /> : undefined}
              />
            </div>
          );
        })}
      </div>
      {blind && !vote && answered && <VoteButtons onVote={(verdict) => void bench.votes.voteTurn(tab, turn, verdict)} />}
      {blind && vote && (
        <p ref={result} tabIndex={-1} className="text-center text-sm text-zinc-600 dark:text-zinc-300" data-testid="vote-result">
          {VERDICT_LABEL[vote.verdict]} — A = {tab.models[order[0]].title}, B = {tab.models[order[1]].title}
        </p>
      )}
    </>
  );
}
