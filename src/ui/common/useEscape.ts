import { useEffect } from 'react';

/** Calls `action` when Esc is pressed anywhere on the page while `active`. */
export function useEscape(active: boolean, action: () => void): void {
  useEffect(() => {
    if (!active) return;
    const listener = (event: KeyboardEvent) => {
      // Esc inside an IME composition cancels the composition, not the answer.
      // An open panel takes Esc for itself.
      if (event.key === 'Escape' && !event.isComposing && !document.querySelector('[role=dialog]')) action();
    };
    addEventListener('keydown', listener);
    return () => removeEventListener('keydown', listener);
  }, [active, action]);
}
