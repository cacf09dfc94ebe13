/**
 * Keyboard-only helpers for the e2e tests: move with Tab as a user would, and check at every
 * stop that the focused element shows it (WCAG 2.4.7: an outline, or a ring drawn as a box-shadow,
 * on the element or on the label that wraps a visually hidden input).
 */
import { expect, type Page } from '@playwright/test';

interface Focused {
  testId: string | null;
  role: string | null;
  description: string;
  /** How the focus shows, or null when it does not. */
  indicator: string | null;
}

export function focused(page: Page): Promise<Focused | null> {
  return page.evaluate(() => {
    const active = document.activeElement;
    if (!(active instanceof HTMLElement) || active === document.body) return null;
    const shows = (element: Element): string | null => {
      const style = getComputedStyle(element);
      if (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0 && style.outlineColor !== 'rgba(0, 0, 0, 0)') return `outline ${style.outlineWidth} ${style.outlineColor}`;
      if (style.boxShadow !== 'none' && /\d+px/.test(style.boxShadow)) return `ring ${style.boxShadow}`;
      return null;
    };
    // A visually hidden file input shows its focus on the label around it (focus-within).
    const hidden = active.getBoundingClientRect().width <= 1;
    const indicator = shows(active) && !hidden ? shows(active) : active.parentElement ? shows(active.parentElement) : null;
    return {
      testId: active.getAttribute('data-testid'),
      role: active.getAttribute('role'),
      description: `${active.tagName.toLowerCase()}${active.dataset.testid ? `[data-testid=${active.dataset.testid}]` : ''} "${(active.getAttribute('aria-label') ?? active.textContent ?? '').trim().slice(0, 40)}"`,
      indicator,
    };
  });
}

/** The focused element shows that it has focus. */
export async function expectFocusVisible(page: Page): Promise<void> {
  const now = await focused(page);
  expect(now, 'something has focus').not.toBeNull();
  expect(now!.indicator, `focus is visible on ${now!.description}`).not.toBeNull();
}

/**
 * Presses Tab (Shift+Tab with `back`) until the element with `testId` has focus, checking at
 * every stop that the focus is visible. Fails when `max` presses do not get there.
 */
export async function tabTo(page: Page, testId: string, { back = false, max = 80 } = {}): Promise<void> {
  const path: string[] = [];
  for (let presses = 0; presses <= max; presses++) {
    const now = await focused(page);
    if (now) {
      expect(now.indicator, `focus is visible on ${now.description}`).not.toBeNull();
      if (now.testId === testId) return;
      path.push(now.description);
    }
    await page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
  }
  throw new Error(`${back ? 'Shift+Tab' : 'Tab'} did not reach [data-testid=${testId}] in ${max} presses; it went through:\n${path.join('\n')}`);
}

/** Selects what the focused field holds and types `text` over it. */
export async function typeOver(page: Page, text: string): Promise<void> {
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.type(text);
}
