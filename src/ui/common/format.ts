/** Number formatting for progress and stats (Korean UI, SI-free binary units as browsers report). */
import type { GenerationStats } from '../../worker/protocol';

export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '—';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value >= 100 || unit === 0 ? value.toFixed(0) : value.toFixed(1)} ${units[unit]}`;
}

export function formatRate(bytesPerSecond: number | undefined): string {
  return bytesPerSecond === undefined || !Number.isFinite(bytesPerSecond) ? '—' : `${formatBytes(bytesPerSecond)}/s`;
}

/** "1시간 2분", "3분 4초", "5초". */
export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '—';
  const s = Math.round(seconds);
  if (s >= 3600) return `${Math.floor(s / 3600)}시간 ${Math.floor((s % 3600) / 60)}분`;
  if (s >= 60) return `${Math.floor(s / 60)}분 ${s % 60}초`;
  return `${s}초`;
}

export function formatTokensPerSecond(rate: number): string {
  if (!Number.isFinite(rate) || rate <= 0) return '—';
  return `${rate >= 100 ? rate.toFixed(0) : rate.toFixed(1)} tok/s`;
}

const graphemes = new Intl.Segmenter('ko', { granularity: 'grapheme' });

/** Characters a reader sees: grapheme clusters that are not whitespace (a Hangul syllable is one). */
export function visibleCharacters(text: string): number {
  let count = 0;
  for (const { segment } of graphemes.segment(text)) if (!/^\s+$/.test(segment)) count++;
  return count;
}

/**
 * An answer's visible characters per second over the decode time that tok/s is measured on:
 * tok/s times the characters each token gave. The LLaMA tokenizer spends ~2.3 tokens per
 * Hangul syllable, so for Korean tok/s overstates how fast text appears.
 */
export function charsPerSecond(text: string, stats: Pick<GenerationStats, 'newTokens' | 'decodeTokensPerSecond'>): number {
  return stats.newTokens > 0 ? (stats.decodeTokensPerSecond * visibleCharacters(text)) / stats.newTokens : NaN;
}

export function formatCharsPerSecond(rate: number): string {
  if (!Number.isFinite(rate) || rate <= 0) return '—';
  return `초당 ${rate >= 100 ? rate.toFixed(0) : rate.toFixed(1)}자`;
}

const TIME = new Intl.DateTimeFormat('ko-KR', { timeStyle: 'short' });
const DAY = new Intl.DateTimeFormat('ko-KR', { month: 'long', day: 'numeric' });
const DATE = new Intl.DateTimeFormat('ko-KR', { dateStyle: 'medium' });

/** As short as a list row needs: "오후 1:45" today, "1월 2일" this year, "2024. 1. 2." before. */
export function formatShortDate(ms: number, now = Date.now()): string {
  const date = new Date(ms);
  const today = new Date(now);
  if (date.toDateString() === today.toDateString()) return TIME.format(date);
  return date.getFullYear() === today.getFullYear() ? DAY.format(date) : DATE.format(date);
}

/** "2025-01-02 13:45" in the browser's time zone. */
export function formatDateTime(ms: number): string {
  const date = new Date(ms);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())} ${two(date.getHours())}:${two(date.getMinutes())}`;
}

export function percent(done: number, total: number): number {
  return total > 0 ? Math.min(100, Math.max(0, (100 * done) / total)) : 0;
}

/** Of a loaded model's checkpoint matrices, how many there are and how many are not q4. */
export function notQ4Count(formats: Partial<Record<'f32' | 'f16' | 'q4', number>>): { notQ4: number; total: number } {
  const total = Object.values(formats).reduce((sum, count) => sum + (count ?? 0), 0);
  return { notQ4: total - (formats.q4 ?? 0), total };
}

/** Perplexity: two decimals while small, four significant digits (then powers of ten) beyond. */
export function formatPerplexity(value: number): string {
  if (!Number.isFinite(value)) return '—';
  return value < 1000 ? value.toFixed(2) : value < 1e6 ? value.toPrecision(4) : value.toExponential(2);
}

/** A share in [0, 1] as a whole percentage. */
export function formatShare(value: number): string {
  return `${Math.round(100 * value)}%`;
}
