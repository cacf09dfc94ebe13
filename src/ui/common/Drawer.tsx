import { useEffect, useId, useRef, type ReactNode } from 'react';
import { tabbables, trapTab } from './focus';

/**
 * A side panel over the page (full width on a phone), at the right unless `side`; Esc, the close
 * button or the backdrop closes it. A modal dialog for the keyboard too: focus moves into it when
 * it opens, Tab stays inside, and closing gives focus back to whatever opened it.
 */
export function Drawer({ title, testId, onClose, children, side = 'right' }: { title: string; testId: string; onClose: () => void; children: ReactNode; side?: 'left' | 'right' }) {
  const panel = useRef<HTMLElement>(null);
  const body = useRef<HTMLDivElement>(null);
  const close = useRef(onClose);
  const titleId = useId();
  useEffect(() => {
    close.current = onClose;
  });
  useEffect(() => {
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    // The panel's first control (a field, a search box), else its close button.
    (tabbables(body.current!)[0] ?? tabbables(panel.current!)[0])?.focus();
    const listener = (event: KeyboardEvent) => {
      if (event.key === 'Escape' && !event.isComposing) close.current();
      else if (panel.current) trapTab(event, panel.current);
    };
    addEventListener('keydown', listener);
    return () => {
      removeEventListener('keydown', listener);
      if (opener?.isConnected) opener.focus();
    };
  }, []);
  return (
    <div className={`fixed inset-0 z-20 flex ${side === 'left' ? 'justify-start' : 'justify-end'}`}>
      {/* For the mouse only: the keyboard has Esc and the close button. */}
      <div aria-hidden className="absolute inset-0 bg-black/30" onClick={onClose} />
      <aside ref={panel} role="dialog" aria-modal="true" aria-labelledby={titleId} data-testid={testId} className="relative flex h-full w-full max-w-md flex-col bg-white shadow-xl dark:bg-zinc-900">
        <header className="flex items-center justify-between border-b border-zinc-200 p-4 dark:border-zinc-800">
          <h2 id={titleId} className="text-lg font-semibold">
            {title}
          </h2>
          <button type="button" className="btn-ghost" onClick={onClose} data-testid={`${testId}-close`}>
            닫기 <span aria-hidden>✕</span>
          </button>
        </header>
        <div ref={body} className="flex-1 space-y-6 overflow-y-auto p-4">
          {children}
        </div>
      </aside>
    </div>
  );
}
