import type { SetRun } from '../../eval/set-run';
import { blindOrder } from '../../eval/votes';
import { formatTokensPerSecond } from '../common/format';
import { useServices } from '../shell/useServices';
import { useStore } from '../common/useStore';
import { resultKey, type SetState } from './question-sets';
import { VoteButtons } from './VoteButtons';

/**
 * The run's results: each question with both answers and their speeds. In blind mode the two
 * answers of a row are A and B in a per-question order, named after the row's vote; the first
 * unjudged row asks for the vote (one at a time).
 */
export function SetResults({ run, current }: { run: SetRun; current: SetState['current'] }) {
  const { bench } = useServices();
  const blind = useStore(bench.votes.blind);
  const votes = useStore(bench.votes.votes);
  const voteOf = (question: number) => votes.find((vote) => vote.key === resultKey(run, question));
  const judging = blind ? run.answers.findIndex((pair, q) => pair[0] !== null && pair[1] !== null && !voteOf(q)) : -1;
  return (
    <div className="overflow-x-auto">
      <table className="w-full table-fixed text-left text-sm" data-testid="set-results">
        <thead className="text-xs text-zinc-500">
          <tr>
            <th className="w-1/5 py-1 pr-2">질문 (question)</th>
            {blind ? (
              <>
                <th className="py-1 pr-2">A</th>
                <th className="py-1">B</th>
              </>
            ) : (
              run.models.map((model) => (
                <th key={model.slot} className="py-1 pr-2">
                  {model.title}
                </th>
              ))
            )}
          </tr>
        </thead>
        <tbody>
          {run.set.questions.map((question, q) => {
            const vote = voteOf(q);
            const order = blind ? blindOrder(resultKey(run, q)) : [0, 1];
            return (
              <tr key={q} data-testid="set-result" className="border-t border-zinc-200 align-top dark:border-zinc-800">
                <td className="py-2 pr-2 break-words">{question}</td>
                {order.map((side, shown) => {
                  const answer = run.answers[q][side];
                  const streaming = current?.question === q && current.side === side;
                  const named = !blind || vote;
                  return (
                    <td key={side} className="py-2 pr-2" data-testid={`set-answer-${shown}`} data-model={named ? run.models[side].repo : undefined}>
                      {blind && <div className="text-xs font-semibold text-zinc-500">{vote ? `${'AB'[shown]} · ${run.models[side].title}` : 'AB'[shown]}</div>}
                      <div className="max-h-48 overflow-y-auto whitespace-pre-wrap break-words">{answer ? answer.answer : streaming ? `${current.text}…` : '—'}</div>
                      {answer && named && (
                        <div className="mt-1 text-xs text-zinc-500" data-testid="set-rate">
                          {formatTokensPerSecond(answer.tokensPerSecond)} · 토큰 {answer.tokens}개
                        </div>
                      )}
                    </td>
                  );
                })}
              </tr>
            );
          })}
        </tbody>
      </table>
      {judging >= 0 && (
        <div className="mt-2 space-y-2 rounded-lg bg-zinc-100 p-2 dark:bg-zinc-800/60" data-testid="set-judge">
          <p className="text-center text-sm">질문 {judging + 1}: 어느 답이 더 나은가요? (Which answer is better?)</p>
          <VoteButtons onVote={(verdict) => void bench.sets.vote(judging, verdict)} />
        </div>
      )}
      {blind && (
        <p className="mt-1 text-xs text-zinc-500" data-testid="set-judged">
          투표한 결과 {run.set.questions.filter((_, q) => voteOf(q)).length}/{run.set.questions.length} (judged)
        </p>
      )}
    </div>
  );
}
