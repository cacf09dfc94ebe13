import type { ErrorData } from '../../errors';
import { errorHelp, type HelpContext } from './error-help';
import { formatBytes } from './format';

interface Props {
  error: ErrorData;
  onRetry?: () => void;
  onSettings?: () => void;
  onDismiss?: () => void;
  compact?: boolean;
  /** The settings the failed load ran with, so that advice never offers what is already set. */
  context?: HelpContext;
}

/** An error a user can meet, what it means and what to do, with the engine's own message. */
export function ErrorPanel({ error, onRetry, onSettings, onDismiss, compact, context }: Props) {
  const help = errorHelp(error, context);
  const needed = error.code === 'quota-exceeded' && typeof error.detail?.needed === 'number' ? error.detail.needed : undefined;
  const available = typeof error.detail?.available === 'number' ? error.detail.available : undefined;
  return (
    <div role="alert" data-testid="error" data-code={error.code} className="rounded-xl border border-rose-300 bg-rose-50 p-4 text-sm text-rose-950 dark:border-rose-900 dark:bg-rose-950/40 dark:text-rose-100">
      <h3 className="font-semibold">{help.title}</h3>
      <p className="mt-1 break-words text-rose-900/80 dark:text-rose-200/80" data-testid="error-message">
        {error.message}
        {/* Both figures or none: after a refused write the browser's free-space figure is wrong, and the error leaves it out. */}
        {needed !== undefined && available !== undefined && ` (필요한 공간 ${formatBytes(needed)}, 남은 공간 ${formatBytes(available)})`}
      </p>
      {!compact && help.steps.length > 0 && (
        <ul className="mt-2 list-disc space-y-1 pl-5">
          {help.steps.map((step) => (
            <li key={step}>{step}</li>
          ))}
        </ul>
      )}
      <div className="mt-3 flex flex-wrap gap-2">
        {onRetry && (help.action === 'retry' || help.action === 'none' || help.action === 'settings') && (
          <button type="button" className={help.action === 'settings' && onSettings ? 'btn-secondary' : 'btn-primary'} onClick={onRetry} data-testid="error-retry">
            다시 시도 (Retry)
          </button>
        )}
        {onSettings && help.action === 'settings' && (
          <button type="button" className="btn-primary" onClick={onSettings} data-testid="error-settings">
            설정 열기 (Settings)
          </button>
        )}
        {help.action === 'reload' && (
          <button type="button" className="btn-secondary" onClick={() => location.reload()}>
            새로 고침 (Reload)
          </button>
        )}
        {onDismiss && (
          <button type="button" className="btn-ghost" onClick={onDismiss}>
            닫기
          </button>
        )}
      </div>
    </div>
  );
}
