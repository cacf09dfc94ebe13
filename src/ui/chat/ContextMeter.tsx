import type { ContextUse } from './context-use';
import { percent } from '../common/format';

/** A small bar by the composer: tokens in the model's context out of its length, and what was left out. */
export function ContextMeter({ use }: { use: ContextUse }) {
  const fill = percent(use.used, use.total);
  return (
    <div
      data-testid="context-meter"
      data-used={use.used}
      data-total={use.total}
      data-dropped={use.dropped}
      className="flex items-center gap-2 text-xs text-zinc-500 dark:text-zinc-400"
      title="컨텍스트가 차면 시스템 프롬프트는 두고 가장 오래된 대화를 한 번에 절반쯤 덜어냅니다. (When the context is full, the oldest turns are dropped in one block; the system prompt stays.)"
    >
      <div
        role="meter"
        aria-label="컨텍스트 사용량 (context used)"
        aria-valuemin={0}
        aria-valuemax={use.total}
        aria-valuenow={use.used}
        aria-valuetext={`${use.used} / ${use.total} 토큰`}
        className="h-1.5 w-16 shrink-0 overflow-hidden rounded-full bg-zinc-200 sm:w-24 dark:bg-zinc-800"
      >
        <div className={`h-full ${fill >= 85 ? 'bg-amber-500' : 'bg-sky-500'}`} style={{ width: `${fill}%` }} />
      </div>
      <span>
        컨텍스트 {use.used} / {use.total} 토큰
      </span>
      {use.dropped > 0 && <span data-testid="context-dropped">· 앞 메시지 {use.dropped}개 제외</span>}
    </div>
  );
}
