/**
 * Accessibility in the e2e suite: axe-core (Deque's engine, the one browsers' own audits are built
 * on) runs its WCAG 2.1 A and AA rules on a screen as the test left it, in the light and the dark
 * theme and at phone width, and any violation fails the test. The axe that runs is the project's
 * own dev dependency (`axe-core/axe.min.js`), injected into the page by @axe-core/playwright.
 *
 * An exception is never silent: the test that meets the screen names the rule, the element and
 * why, and an exception that no longer matches anything fails too, so none outlives its reason.
 */
import AxeBuilder from '@axe-core/playwright';
import type { AxeResults, NodeResult, Result } from 'axe-core';
import { expect, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { ARTIFACTS } from './fixtures';

/** WCAG 2.0 and 2.1, levels A and AA: what KWCAG and the issue ask for. */
export const WCAG_21_AA = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** The phone the other e2e tests use (an iPhone SE-sized viewport). */
export const PHONE = { width: 375, height: 740 } as const;

export type Variant = 'light' | 'dark' | 'phone-light' | 'phone-dark';
export const ALL_VARIANTS: readonly Variant[] = ['light', 'dark', 'phone-light', 'phone-dark'];

export interface AxeException {
  /** The axe rule id, e.g. 'color-contrast'. */
  rule: string;
  /** A substring of the offending element's selector; every element of the rule when absent. */
  target?: string;
  /** Why this is not a violation of WCAG 2.1 AA, or why it cannot be fixed here. */
  reason: string;
}

export interface A11yOptions {
  /** Which themes and widths to check; all four unless the screen exists in fewer. */
  variants?: readonly Variant[];
  exceptions?: AxeException[];
}

/**
 * Runs axe on the page as it is, in each variant, then puts the viewport and colour scheme back.
 * Fails with every violation listed (rule, element, and for contrast the colours and ratio).
 * Writes what it found (violations and the "incomplete" items axe could not decide) to
 * e2e/artifacts/a11y/SCREEN.json.
 */
export async function expectAccessible(page: Page, screen: string, options: A11yOptions = {}): Promise<void> {
  const variants = options.variants ?? ALL_VARIANTS;
  const exceptions = options.exceptions ?? [];
  const used = new Set<AxeException>();
  const viewport = page.viewportSize();
  const failures: string[] = [];
  const report: Record<string, unknown> = {};
  try {
    for (const variant of variants) {
      const phone = variant.startsWith('phone');
      await page.emulateMedia({ colorScheme: variant.endsWith('dark') ? 'dark' : 'light' });
      if (phone) await page.setViewportSize(PHONE);
      else if (viewport) await page.setViewportSize(viewport);
      await settled(page);
      const started = Date.now();
      const results = await new AxeBuilder({ page, axeSource: AXE_SOURCE }).withTags(WCAG_21_AA).analyze();
      const covered = await judgeCovered(page, results);
      const ms = Date.now() - started;
      for (const rule of [...results.violations, ...covered.violations]) {
        for (const node of rule.nodes) {
          const target = node.target.join(' ');
          const exception = exceptions.find((e) => e.rule === rule.id && (e.target === undefined || target.includes(e.target)));
          if (exception) used.add(exception);
          else failures.push(`[${variant}] ${describe(rule, node)}`);
        }
      }
      report[variant] = { ms, ...summary(results), covered: { judged: covered.judged, failed: covered.violations.flatMap((rule) => rule.nodes).length, undecided: covered.undecided } };
    }
  } finally {
    await page.emulateMedia({ colorScheme: null });
    if (viewport) await page.setViewportSize(viewport);
  }
  await mkdir(path.join(ARTIFACTS, 'a11y'), { recursive: true });
  await writeFile(path.join(ARTIFACTS, 'a11y', `${screen}.json`), `${JSON.stringify(report, null, 2)}\n`);
  const stale = exceptions.filter((exception) => !used.has(exception)).map((e) => `${e.rule} ${e.target ?? ''}: ${e.reason}`);
  // Soft: one run lists every screen's violations, and the test still fails at its end.
  expect.soft(failures, `axe (WCAG 2.1 A/AA) on "${screen}"`).toEqual([]);
  expect.soft(stale, `axe exceptions on "${screen}" that no longer match anything: remove them`).toEqual([]);
}

/** Why axe could not judge a text's contrast where it stood: something covered it there, or it was out of view. */
const COVERED = new Set(['bgOverlap', 'elmPartiallyObscured', 'outsideViewport']);

function coveredTargets(results: AxeResults): string[] {
  return results.incomplete
    .filter((rule) => rule.id === 'color-contrast')
    .flatMap((rule) => rule.nodes)
    .filter((node) => node.any.some((check) => COVERED.has((check.data as { messageKey?: string } | null)?.messageKey ?? '')))
    .map((node) => node.target.join(' '));
}

/**
 * Text whose contrast axe could not judge where it stood (under the message box at the end of
 * a scrolled answer, a tab half out of its scrolling bar) is scrolled into view, one element at
 * a time, and judged there by axe's contrast rule; every scroll position is put back after.
 * Returns the contrast violations found so, how many were judged, and those still undecided.
 */
async function judgeCovered(page: Page, results: AxeResults): Promise<{ violations: Result[]; judged: number; undecided: string[] }> {
  let pending = coveredTargets(results);
  const judged = pending.length;
  const violations: Result[] = [];
  const undecided: string[] = [];
  if (pending.length === 0) return { violations, judged, undecided };
  const scrolls = await page.evaluateHandle(() =>
    [...document.querySelectorAll('*')].filter((element) => element.scrollHeight > element.clientHeight || element.scrollWidth > element.clientWidth).map((element) => ({ element, top: element.scrollTop, left: element.scrollLeft })),
  );
  try {
    while (pending.length > 0) {
      const [first] = pending;
      await page.evaluate((selector) => document.querySelector(selector)?.scrollIntoView({ block: 'center', inline: 'center' }), first);
      const again = await new AxeBuilder({ page, axeSource: AXE_SOURCE }).withRules(['color-contrast']).analyze();
      const stillCovered = new Set(coveredTargets(again));
      for (const rule of again.violations) {
        const nodes = rule.nodes.filter((node) => pending.includes(node.target.join(' ')));
        if (nodes.length > 0) violations.push({ ...rule, nodes });
      }
      if (stillCovered.has(first)) undecided.push(first);
      pending = pending.filter((target) => target !== first && stillCovered.has(target));
    }
  } finally {
    await scrolls.evaluate((list) => {
      for (const { element, top, left } of list) element.scrollTo(left, top);
    });
    await scrolls.dispose();
  }
  return { violations, judged: judged - undecided.length, undecided };
}

/** Waits for the theme's colour transitions (Tailwind's `transition` classes) to end: axe reads computed colours. */
async function settled(page: Page): Promise<void> {
  await page.waitForFunction(() => document.getAnimations().every((animation) => !(animation instanceof CSSTransition) || animation.playState !== 'running'));
}

function describe(rule: Result, node: NodeResult): string {
  const target = node.target.join(' ');
  const contrast = rule.id === 'color-contrast' ? (node.any[0]?.data as { fgColor?: string; bgColor?: string; contrastRatio?: number; expectedContrastRatio?: string; fontSize?: string } | undefined) : undefined;
  const detail = contrast?.fgColor ? ` ${contrast.fgColor} on ${contrast.bgColor} = ${contrast.contrastRatio}:1 (needs ${contrast.expectedContrastRatio}, ${contrast.fontSize})` : '';
  const text = node.html.replace(/\s+/g, ' ').slice(0, 120);
  return `${rule.id} (${rule.impact}) ${target}${detail} — ${text}`;
}

function summary(results: AxeResults) {
  const list = (rules: Result[]) => rules.map((rule) => ({ rule: rule.id, impact: rule.impact, targets: rule.nodes.map((node) => node.target.join(' ')) }));
  // What axe could not decide, and why (for contrast: a background it cannot compute, such as
  // text overlapped by another element or over an image), so that a reader can judge them.
  const undecided = (rules: Result[]) =>
    rules.map((rule) => ({ rule: rule.id, nodes: rule.nodes.map((node) => ({ target: node.target.join(' '), why: [...node.any, ...node.all, ...node.none].map((check) => check.message).join('; ') })) }));
  return { violations: list(results.violations), incomplete: undecided(results.incomplete), passes: results.passes.length };
}
