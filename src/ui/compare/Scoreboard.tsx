import { useState } from 'react';
import { flip, tally } from '../../eval/votes';
import { formatShare } from '../common/format';
import { useServices } from '../shell/useServices';
import { useStore } from '../common/useStore';
import { shortName, type CompareTab } from '../common/tabs';
import { downloadText } from '../common/download';

/**
 * Wins, ties and losses per model pair from the user's blind votes, with the win rate (a tie
 * counts half) and its 95% Wilson interval; the Compare tab's left model is read first.
 */
export function Scoreboard({ tab }: { tab: CompareTab }) {
  const { bench } = useServices();
  const votes = useStore(bench.votes.votes);
  const [confirming, setConfirming] = useState(false);
  const title = (repo: string) => tab.models.find((m) => m.repo === repo)?.title ?? shortName(repo);
  const rows = tally(votes).map((row) => (row.second === tab.models[0].repo ? flip(row) : row));
  return (
    <div data-testid="scoreboard" className="space-y-2">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <h3 className="section-title">점수판 (Scoreboard)</h3>
        <div className="flex gap-1">
          <button type="button" className="btn-ghost" data-testid="export-votes" disabled={votes.length === 0} onClick={() => downloadText('votes.jsonl', bench.votes.exportJsonl())}>
            투표 내보내기 (JSONL)
          </button>
          {confirming ? (
            <button
              type="button"
              className="btn-danger-ghost"
              data-testid="clear-votes-confirm"
              onClick={() => {
                setConfirming(false);
                void bench.votes.clear();
              }}
            >
              {votes.length}개 투표를 지웁니다 (confirm)
            </button>
          ) : (
            <button type="button" className="btn-ghost" data-testid="clear-votes" disabled={votes.length === 0} onClick={() => setConfirming(true)}>
              투표 지우기 (Clear)
            </button>
          )}
        </div>
      </div>
      {rows.length === 0 ? (
        <p className="text-sm text-zinc-500">아직 투표가 없습니다. 블라인드 모드에서 답을 비교해 투표하세요. (No votes yet.)</p>
      ) : (
        <div className="overflow-x-auto">
          <table className="w-full text-left text-sm">
            <thead className="text-xs text-zinc-500">
              <tr>
                <th className="py-1 pr-2">모델 (model)</th>
                <th className="py-1 pr-2">상대 (vs)</th>
                <th className="py-1 pr-2">승 (W)</th>
                <th className="py-1 pr-2">무 (T)</th>
                <th className="py-1 pr-2">패 (L)</th>
                <th className="py-1 pr-2">승률 · 95% 구간 (win rate, Wilson)</th>
                <th className="py-1">투표 (n)</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <tr key={`${row.first}|${row.second}`} data-testid="scoreboard-row" data-first={row.first} data-second={row.second} className="border-t border-zinc-200 dark:border-zinc-800">
                  <td className="py-1 pr-2 font-medium">{title(row.first)}</td>
                  <td className="py-1 pr-2">{title(row.second)}</td>
                  <td className="py-1 pr-2" data-testid="score-wins">{row.wins}</td>
                  <td className="py-1 pr-2" data-testid="score-ties" title={`둘 다 별로 (both bad): ${row.bothBad}`}>
                    {row.ties}
                  </td>
                  <td className="py-1 pr-2" data-testid="score-losses">{row.losses}</td>
                  <td className="py-1 pr-2" data-testid="score-rate">
                    {formatShare(row.winRate)} ({formatShare(row.interval.low)}–{formatShare(row.interval.high)})
                  </td>
                  <td className="py-1" data-testid="score-count">{row.count}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
