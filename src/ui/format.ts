/** Number formatting for progress and stats (Korean UI, SI-free binary units as browsers report). */

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
