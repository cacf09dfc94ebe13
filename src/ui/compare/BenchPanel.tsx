import { useServices } from '../shell/useServices';
import { useStore } from '../common/useStore';
import type { CompareTab } from '../common/tabs';
import { QuestionSetPanel } from './QuestionSetPanel';
import { Scoreboard } from './Scoreboard';
import { ScoreTextPanel } from './ScoreTextPanel';

/** Compare as an evaluation bench: blind mode and the scoreboard, question sets, scoring a text. */
export function BenchPanel({ tab, busy }: { tab: CompareTab; busy: boolean }) {
  const { bench } = useServices();
  const blind = useStore(bench.votes.blind);
  return (
    <section className="space-y-3" data-testid="bench">
      <div className="space-y-3 rounded-xl border border-zinc-200 p-3 dark:border-zinc-800">
        <label className="flex w-fit cursor-pointer items-center gap-2 text-sm font-medium">
          <input type="checkbox" className="size-4 accent-sky-600" data-testid="blind-toggle" checked={blind} onChange={(event) => bench.votes.setBlind(event.target.checked)} />
          블라인드 모드 (Blind): 어느 모델의 답인지 숨기고 좌우를 섞습니다. 이름은 투표한 뒤 공개됩니다.
        </label>
        <Scoreboard tab={tab} />
      </div>
      <QuestionSetPanel tab={tab} busy={busy} />
      <ScoreTextPanel tab={tab} busy={busy} />
    </section>
  );
}
