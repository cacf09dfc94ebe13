import { useCallback } from 'react';
import { compareKey } from './compare-controller';
import { useAutoScroll } from '../common/useAutoScroll';
import { useEscape } from '../common/useEscape';
import { useServices } from '../shell/useServices';
import { useStore } from '../common/useStore';
import { useThread } from '../conversations/useThread';
import type { CompareTab as CompareTabInfo } from '../common/tabs';
import { BenchPanel } from './BenchPanel';
import { CompareAnswers } from './CompareAnswers';
import { Composer } from '../chat/Composer';
import { ModelBar } from '../models/ModelBar';
import { Presets } from '../chat/Presets';

/** One question to both models, answers side by side (stacked on a phone). */
export function CompareTab({ tab, onSettings }: { tab: CompareTabInfo; onSettings: () => void }) {
  const { chats, compare, slots, bench } = useServices();
  const blind = useStore(bench.votes.blind);
  // Only whether a set runs: the set's state changes with every token it streams.
  const setRunning = useStore(bench.sets.state, (state) => state.running);
  const key = compareKey(tab);
  const { thread, ready } = useThread(key);
  const running = useStore(chats.running)[key] !== undefined;
  const slotStates = useStore(slots.state);
  const busyElsewhere = !running && (setRunning || tab.models.some((model) => slotStates[model.id]?.generating));
  const stop = useCallback(() => chats.stop(key), [chats, key]);
  useEscape(running, stop);
  const scroller = useAutoScroll<HTMLDivElement>(thread.turns);
  const sequential = thread.turns.some((turn) => turn.sequential) || tab.models.some((model) => slotStates[model.id]?.unloadedBecause === 'evicted');

  return (
    <div className="flex min-h-0 flex-1 flex-col" data-testid="compare">
      <div ref={scroller} className="min-h-0 flex-1 overflow-y-auto">
        <div className="mx-auto max-w-6xl space-y-4 p-3 sm:p-4">
          <div className="grid gap-3 md:grid-cols-2">
            {tab.models.map((model) => (
              <div key={model.id} className="rounded-xl border border-zinc-200 p-3 dark:border-zinc-800">
                <div className="mb-1 font-semibold">{model.title}</div>
                <ModelBar tab={model} onSettings={onSettings} />
              </div>
            ))}
          </div>
          {sequential && (
            <p className="notice" data-testid="compare-sequential">
              GPU 메모리가 두 모델을 함께 담기에 부족해, 한 모델씩 차례로 실행하며 캐시에서 다시 불러옵니다. (GPU too small for both: running one after the other, reloading from cache.)
            </p>
          )}
          <BenchPanel tab={tab} busy={running || busyElsewhere} />
          {ready && thread.turns.length === 0 && <Presets disabled={running || busyElsewhere} onAsk={(prompt) => void compare.send(tab, prompt)} />}
          {thread.turns.map((turn, index) => (
            <section key={turn.id} className="space-y-2" data-testid="compare-turn">
              <div className="ml-auto w-fit max-w-[85%] whitespace-pre-wrap break-words rounded-2xl bg-sky-600 px-3 py-2 text-white dark:bg-sky-700" data-testid="message-user">
                {turn.prompt}
              </div>
              <CompareAnswers tab={tab} turn={turn} turns={thread.turns} blind={blind} onSettings={onSettings} />
              {index === thread.turns.length - 1 && !running && (
                <div className="flex justify-center">
                  <button type="button" className="btn-ghost" data-testid="regenerate" onClick={() => void compare.regenerate(tab)}>
                    두 모델 모두 다시 생성 (Regenerate both)
                  </button>
                </div>
              )}
            </section>
          ))}
        </div>
      </div>
      <Composer
        running={running}
        blocked={busyElsewhere ? '모델이 다른 탭에서 답변 중입니다… (busy in another tab)' : undefined}
        onSend={(text) => void compare.send(tab, text)}
        onStop={stop}
        onNewChat={() => void compare.newChat(tab)}
        readyModels={tab.models.filter((model) => slotStates[model.id]?.status === 'ready').length}
      />
    </div>
  );
}
