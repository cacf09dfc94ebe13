import type { LoadPhase } from '../../worker/protocol';
import { formatBytes, formatDuration, formatRate, percent } from '../common/format';
import type { SlotState } from './model-slots';

export const PHASE_LABELS: Record<LoadPhase, string> = {
  connect: '허브 연결 중 (connecting)',
  download: '다운로드 및 변환 중 (download + quantize)',
  'cache-read': '브라우저 캐시에서 읽는 중 (cache read)',
  'cache-write': '브라우저 캐시에 저장 중 (cache write)',
  compile: 'GPU 셰이더 준비 중 (compile)',
};

/** One slot's load: the phase, a bar, bytes, speed and time left, and Cancel. */
export function LoadProgress({ state, onCancel }: { state: SlotState; onCancel: () => void }) {
  const progress = state.progress;
  const phase = progress?.phase ?? 'connect';
  const done = progress?.doneBytes ?? 0;
  const total = progress?.totalBytes ?? 0;
  const value = percent(done, total);
  return (
    <div data-testid="load-progress" data-phase={phase} className="rounded-xl border border-sky-200 bg-sky-50 p-3 text-sm dark:border-sky-900 dark:bg-sky-950/40">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <span className="font-medium" data-testid="load-phase">
          {PHASE_LABELS[phase]}
        </span>
        <button type="button" data-testid="load-cancel" onClick={onCancel} className="btn-secondary">
          취소 (Cancel)
        </button>
      </div>
      <div
        className="mt-2 h-2 overflow-hidden rounded-full bg-sky-100 dark:bg-sky-900"
        role="progressbar"
        aria-label={`${state.repo} 불러오기 (loading)`}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={Math.round(value)}
        aria-valuetext={total > 0 ? `${value.toFixed(0)}% · ${formatBytes(done)} / ${formatBytes(total)} · ${PHASE_LABELS[phase]}` : PHASE_LABELS[phase]}
      >
        <div className="h-full rounded-full bg-sky-500 transition-[width] duration-150" style={{ width: `${total > 0 ? value : 3}%` }} />
      </div>
      {total > 0 ? (
        <div className="mt-1 flex flex-wrap gap-x-4 gap-y-0.5 text-xs text-zinc-600 dark:text-zinc-400" data-testid="load-bytes">
          <span>
            {formatBytes(done)} / {formatBytes(total)} ({value.toFixed(0)}%)
          </span>
          {progress?.bytesPerSecond ? <span>속도 {formatRate(progress.bytesPerSecond)}</span> : null}
          {progress?.etaSeconds !== undefined && done < total ? <span>남은 시간 {formatDuration(progress.etaSeconds)}</span> : null}
          {progress?.file && <span className="min-w-0 truncate font-mono">{progress.file}</span>}
        </div>
      ) : (
        <div className="mt-1 text-xs text-zinc-600 dark:text-zinc-400">설정과 토크나이저를 읽는 중…</div>
      )}
      {progress?.cacheDamaged && (
        <div className="mt-1 text-xs font-medium text-amber-800 dark:text-amber-300" data-testid="load-cache-damaged" title={progress.cacheDamaged}>
          저장된 사본이 손상되어 지웠고, 모델을 처음부터 다시 받는 중입니다{total > 0 && phase === 'download' ? ` (${formatBytes(total)})` : ''}. (The cached copy was damaged and is being
          downloaded again: {progress.cacheDamaged}.)
        </div>
      )}
      {state.resumed && (
        <div className="mt-1 text-xs text-emerald-700 dark:text-emerald-300" data-testid="load-resumed" data-percent={state.resumed.percent}>
          {state.resumed.percent}%부터 이어받는 중: 지난번에 받아 변환한 부분은 다시 받지 않습니다 (resuming at {state.resumed.percent}%)
        </div>
      )}
      {total > 0 && done >= total && phase !== 'cache-write' && (
        <div className="mt-1 text-xs text-zinc-600 dark:text-zinc-400" data-testid="load-finishing">
          GPU 준비 중… 커널을 컴파일하고 있습니다 (preparing GPU kernels)
        </div>
      )}
      {state.phases.length > 1 && <div className="mt-1 text-xs text-zinc-500">{state.phases.map((p) => PHASE_LABELS[p].split(' (')[0]).join(' → ')}</div>}
    </div>
  );
}
