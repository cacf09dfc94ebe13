/** Keyboard focus helpers shared by the panels and the message box (WCAG 2.4.3 focus order, 2.4.7 focus visible). */

const TABBABLE = 'a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), select:not([disabled]), textarea:not([disabled]), summary, [tabindex]:not([tabindex="-1"])';

/** The elements inside `container` that Tab reaches, in document order (rendered ones only). */
export function tabbables(container: HTMLElement): HTMLElement[] {
  return [...container.querySelectorAll<HTMLElement>(TABBABLE)].filter((element) => element.tabIndex >= 0 && element.getClientRects().length > 0);
}

/** Keeps Tab and Shift+Tab inside `container` (a modal panel): past the last element comes the first. */
export function trapTab(event: KeyboardEvent, container: HTMLElement): void {
  if (event.key !== 'Tab') return;
  const inside = tabbables(container);
  if (inside.length === 0) return;
  const first = inside[0];
  const last = inside[inside.length - 1];
  const current = document.activeElement;
  if (event.shiftKey ? current === first || !container.contains(current) : current === last || !container.contains(current)) {
    event.preventDefault();
    (event.shiftKey ? last : first).focus();
  }
}

/**
 * Whether focus has nowhere to be: on the page itself, or on an element that a re-render took
 * away (a Load or Send button replaced by what follows it). Then the app may move it; never
 * when the user has put it somewhere of their own.
 */
export function focusIsLost(): boolean {
  const active = document.activeElement;
  return active === null || active === document.body || !active.isConnected;
}
