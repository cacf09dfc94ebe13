import type { ChangeEvent } from 'react';
import { canResume, runProgress } from '../../eval/set-run';
import { percent } from '../common/format';
import { useServices } from '../shell/useServices';
import { useStore } from '../common/useStore';
import { PAPER_SET } from './question-sets';
import type { CompareTab } from '../common/tabs';
import { downloadText } from '../common/download';
import { ErrorPanel } from '../common/ErrorPanel';
import { SetResults } from './SetResults';

/**
 * A list of questions through both models with the same settings and seed: the paper's three or
 * an imported file (JSONL with "question", or one per line), progress, Stop, resume after a
 * reload, the results, and a JSONL export for an outside judge.
 */
export function QuestionSetPanel({ tab, busy }: { tab: CompareTab; busy: boolean }) {
  const { bench } = useServices();
  const { set, run, running, current, importError } = useStore(bench.sets.state);
  const progress = run ? runProgress(run) : undefined;
  const resumable = canResume(run, set, tab.models.map((m) => m.repo)) && progress !== undefined && progress.done > 0;
  const onFile = (event: ChangeEvent<HTMLInputElement>) => {
    const file = event.target.files?.[0];
    event.target.value = ''; // the same file can be chosen again after an edit
    if (file) void bench.sets.importFile(file);
  };
  return (
    <details open className="rounded-xl border border-zinc-200 p-3 dark:border-zinc-800">
      <summary className="section-title cursor-pointer">질문 세트 (Question set)</summary>
      <div className="mt-2 space-y-3">
        <div className="flex flex-wrap items-center gap-2 text-sm">
          <span data-testid="question-set-name">
            {set.name} · 질문 {set.questions.length}개
          </span>
          <label data-testid="question-set" className="btn-secondary cursor-pointer focus-within:ring-2 focus-within:ring-sky-500">
            파일 가져오기 (.jsonl / .txt)
            <input type="file" accept=".jsonl,.json,.txt,text/plain,application/json" className="sr-only" disabled={running} onChange={onFile} />
          </label>
          {set !== PAPER_SET && (
            <button type="button" className="btn-ghost" disabled={running} data-testid="question-set-paper" onClick={() => void bench.sets.usePaperSet()}>
              논문의 세 질문으로 (paper’s questions)
            </button>
          )}
        </div>
        {importError && (
          <p className="text-sm text-rose-700 dark:text-rose-300" role="alert" data-testid="question-set-error">
            가져오지 못했습니다 (nothing changed): {importError}
          </p>
        )}
        <div className="flex flex-wrap items-center gap-2">
          {running ? (
            <button type="button" className="btn-danger" data-testid="set-stop" onClick={() => bench.sets.stop()}>
              중지 (Stop)
            </button>
          ) : (
            <button type="button" className="btn-primary" data-testid="run-set" disabled={busy} onClick={() => void bench.sets.run(tab)}>
              {resumable ? `이어서 실행 (Resume) ${progress.done}/${progress.total}` : '두 모델로 실행 (Run both models)'}
            </button>
          )}
          {/* Enabled once the run has ended (done or stopped) with answers: an export is never of a run mid-way. */}
          <button type="button" className="btn-secondary" data-testid="export-results" disabled={running || !progress?.done} onClick={() => downloadText('results.jsonl', bench.sets.exportJsonl())}>
            결과 내보내기 (Export JSONL)
          </button>
        </div>
        {run && progress && (
          <div className="space-y-1">
            <div
              role="progressbar"
              aria-label="질문 세트 진행 (question set progress)"
              aria-valuemin={0}
              aria-valuemax={progress.total}
              aria-valuenow={progress.done}
              aria-valuetext={`답변 ${progress.done}/${progress.total}`}
              data-testid="set-progress"
              data-status={run.status}
              data-done={progress.done}
              data-total={progress.total}
              className="h-2 overflow-hidden rounded-full bg-zinc-200 dark:bg-zinc-800"
            >
              <div className="h-full bg-sky-600 transition-all" style={{ width: `${percent(progress.done, progress.total)}%` }} />
            </div>
            <p className="text-xs text-zinc-500" data-testid="set-status">
              답변 {progress.done}/{progress.total}
              {current && ` · ${run.models[current.side].title}: 질문 ${current.question + 1}/${run.set.questions.length} 생성 중…`}
              {run.status === 'done' && ' · 완료 (done)'}
              {run.status === 'stopped' && !running && ' · 중지됨: 이어서 실행할 수 있습니다 (stopped: resume any time)'}
            </p>
          </div>
        )}
        {run?.status === 'error' && run.error && <ErrorPanel error={run.error} compact onRetry={() => void bench.sets.run(tab)} />}
        {run && <SetResults run={run} current={current} />}
      </div>
    </details>
  );
}
