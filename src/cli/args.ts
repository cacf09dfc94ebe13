/** Command-line flags for the CLI commands, parsed with node:util and checked into typed values. */
import { parseArgs } from 'node:util';
import { EngineError } from '../errors';
import type { ModelDtype } from '../model/weights';

export type Flags = Record<string, string | boolean | undefined>;

export function parseFlags(argv: string[], spec: Record<string, 'string' | 'boolean'>): Flags {
  try {
    const { values } = parseArgs({
      args: argv,
      options: Object.fromEntries(Object.entries(spec).map(([name, type]) => [name, { type }])),
      strict: true,
      allowPositionals: false,
    });
    return values as Flags;
  } catch (error) {
    throw new EngineError('bad-input', (error as Error).message);
  }
}

export function requireString(flags: Flags, name: string): string {
  const value = flags[name];
  if (typeof value !== 'string' || value === '') throw new EngineError('bad-input', `--${name} is required`);
  return value;
}

export function numberFlag(flags: Flags, name: string, fallback: number, check: (n: number) => boolean, what: string): number {
  const value = flags[name];
  if (value === undefined) return fallback;
  const n = Number(value);
  if (typeof value !== 'string' || value.trim() === '' || !Number.isFinite(n) || !check(n)) {
    throw new EngineError('bad-input', `--${name} must be ${what}, got ${JSON.stringify(value)}`);
  }
  return n;
}

export function dtypeFlag(flags: Flags, fallback: ModelDtype): ModelDtype {
  const value = flags.dtype ?? fallback;
  if (value !== 'f32' && value !== 'f16' && value !== 'q4') throw new EngineError('bad-input', `--dtype must be f32, f16 or q4, got ${JSON.stringify(value)}`);
  return value;
}

export function tokenListFlag(value: string): number[] {
  const ids = value.split(',').map((part) => Number(part.trim()));
  if (ids.length === 0 || ids.some((id) => !Number.isInteger(id) || id < 0)) {
    throw new EngineError('bad-input', `--tokens must be comma-separated token ids, got ${JSON.stringify(value)}`);
  }
  return ids;
}
