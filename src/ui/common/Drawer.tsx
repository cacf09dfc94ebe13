import { useEffect, type ReactNode } from 'react';

/** A side panel over the page (full width on a phone), at the right unless `side`; Esc or the backdrop closes it. */
export function Drawer({ title, testId, onClose, children, side = 'right' }: { title: string; testId: string; onClose: () => void; children: ReactNode; side?: 'left' | 'right' }) {
  useEffect(() => {
    const listener = (event: KeyboardEvent) => event.key === 'Escape' && !event.isComposing && onClose();
    addEventListener('keydown', listener);
    return () => removeEventListener('keydown', listener);
  }, [onClose]);
  return (
    <div className={`fixed inset-0 z-20 flex ${side === 'left' ? 'justify-start' : 'justify-end'}`}>
      <button type="button" aria-label="닫기" className="absolute inset-0 bg-black/30" onClick={onClose} />
      <aside role="dialog" aria-label={title} data-testid={testId} className="relative flex h-full w-full max-w-md flex-col bg-white shadow-xl dark:bg-zinc-900">
        <header className="flex items-center justify-between border-b border-zinc-200 p-4 dark:border-zinc-800">
          <h2 className="text-lg font-semibold">{title}</h2>
          <button type="button" className="btn-ghost" onClick={onClose} data-testid={`${testId}-close`}>
            닫기 ✕
          </button>
        </header>
        <div className="flex-1 space-y-6 overflow-y-auto p-4">{children}</div>
      </aside>
    </div>
  );
}
