import { appShell } from './app-shell';
import { useStore } from '../common/useStore';

/** A bar above the app when a new build is installed: reload onto it now, or later. */
export function UpdatePrompt() {
  const { updateReady } = useStore(appShell.state);
  if (!updateReady) return null;
  return (
    <div role="status" data-testid="update-ready" className="flex flex-wrap items-center justify-center gap-2 border-b border-sky-200 bg-sky-50 px-3 py-1.5 text-sm text-sky-950 dark:border-sky-900 dark:bg-sky-950/60 dark:text-sky-100">
      <span>새 버전이 준비되었습니다 (update ready). 대화는 그대로 남습니다.</span>
      <button type="button" className="btn-primary" data-testid="update-reload" onClick={() => appShell.apply()}>
        새로고침 (Reload)
      </button>
      <button type="button" className="btn-ghost" data-testid="update-later" onClick={() => appShell.dismiss()}>
        나중에 (later)
      </button>
    </div>
  );
}
