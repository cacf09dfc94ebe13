/** Command-line flags for the CLI commands, parsed with node:util and checked into typed values. */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { ChatSettings } from '../chat/engine';
import { EngineError } from '../errors';
import { isMissing } from '../loader/node-fs';
import type { ModelDtype } from '../model/weights';
import type { Tokenizer } from '../tokenizer/tokenizer';

export type Flags = Record<string, string | boolean | string[] | undefined>;

/** 'strings': a flag that may be repeated (eval's --model A --model B), parsed to a list. */
export type FlagKind = 'string' | 'boolean' | 'strings';

/** What every --model takes. */
export const MODEL_FLAGS = { model: 'string', revision: 'string', 'cache-dir': 'string' } as const;

/** The text of the file a flag names (`--script`, `--questions`): `not-found` when it is missing, else `bad-input` saying why it cannot be read. */
export async function readFlagFile(flag: string, file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if (isMissing(error)) throw new EngineError('not-found', `--${flag} ${file}: no such file`);
    throw new EngineError('bad-input', `--${flag} ${file}: ${(error as Error).message}`);
  }
}

export function parseFlags(argv: string[], spec: Record<string, FlagKind>): Flags {
  try {
    const { values } = parseArgs({
      args: argv,
      options: Object.fromEntries(Object.entries(spec).map(([name, kind]) => [name, kind === 'strings' ? { type: 'string', multiple: true } : { type: kind }])),
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

/**
 * --text or --tokens, exactly one. `bound` is the most ids there can be (known for --tokens;
 * text is tokenized once the repo is open, within a generous bound) to size the context.
 */
export function textOrTokensFlag(flags: Flags): { bound: number; ids(tokenizer: Tokenizer): number[] } {
  if ((flags.text === undefined) === (flags.tokens === undefined)) throw new EngineError('bad-input', 'give exactly one of --text and --tokens');
  const explicit = typeof flags.tokens === 'string' ? tokenListFlag(flags.tokens) : undefined;
  return {
    bound: explicit?.length ?? 4096,
    ids: (tokenizer) => explicit ?? tokenizer.encode(requireString(flags, 'text'), { addBos: true }),
  };
}

/** The flags `generate`, `chat` and `eval` share: prompt format, sampling, weights format, context, output. */
export const GENERATION_FLAGS = {
  template: 'string',
  system: 'string',
  'max-new-tokens': 'string',
  temperature: 'string',
  'top-k': 'string',
  'top-p': 'string',
  'repetition-penalty': 'string',
  seed: 'string',
  dtype: 'string',
  'context-length': 'string',
  json: 'boolean',
} as const;

export interface GenerationFlags {
  settings: ChatSettings;
  dtype: ModelDtype;
  contextLength: number;
  json: boolean;
}

/**
 * Checks GENERATION_FLAGS into settings; defaults: the repo's chat template (Vicuna v1.1 where it
 * has none), greedy, 256 new tokens, q4, 2048.
 */
export function generationFlags(flags: Flags): GenerationFlags {
  const template = flags.template ?? 'auto';
  if (template !== 'auto' && template !== 'vicuna' && template !== 'raw') {
    throw new EngineError('bad-input', `--template must be auto (the repo's chat template, else vicuna), vicuna or raw, got ${JSON.stringify(template)}`);
  }
  const settings: ChatSettings = {
    template,
    systemPrompt: typeof flags.system === 'string' ? flags.system : undefined,
    maxNewTokens: numberFlag(flags, 'max-new-tokens', 256, (n) => Number.isInteger(n) && n > 0, 'a positive integer'),
    temperature: numberFlag(flags, 'temperature', 0, (n) => n >= 0 && n <= 10, 'in [0, 10] (0 = greedy)'),
    topK: numberFlag(flags, 'top-k', 0, (n) => Number.isInteger(n) && n >= 0, 'a non-negative integer (0 = off)'),
    topP: numberFlag(flags, 'top-p', 1, (n) => n > 0 && n <= 1, 'in (0, 1]'),
    repetitionPenalty: numberFlag(flags, 'repetition-penalty', 1, (n) => n > 0 && n <= 10, 'in (0, 10]'),
    seed: numberFlag(flags, 'seed', 0, (n) => Number.isInteger(n) && n >= 0 && n <= 0xffffffff, 'a 32-bit unsigned integer'),
  };
  const contextLength = numberFlag(flags, 'context-length', 2048, (n) => Number.isInteger(n) && n > 1, 'an integer > 1');
  return { settings, dtype: dtypeFlag(flags, 'q4'), contextLength, json: flags.json === true };
}
