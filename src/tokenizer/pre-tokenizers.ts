/**
 * tokenizer.json's normalizer and pre-tokenizer, read from the file and run as Hugging Face
 * tokenizers runs them (tokenizers/src/normalizers, pre_tokenizers): a normalizer maps a text to
 * a text; a pre-tokenizer cuts a text into words, each of which the BPE model encodes alone.
 * Supported: the normalizers NFC, NFD, NFKC, NFKD, Lowercase, Replace and Sequence; the
 * pre-tokenizers Split (a regex or a string, every split behaviour, invert), ByteLevel, Digits
 * and Sequence. Any other is refused by name: a tokenizer run differently would be wrong ids.
 */
import { EngineError } from '../errors';
import { toByteLevel } from './byte-level';
import { onigRegExp, UnsupportedRegexError } from './onig-regex';

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

function unsupported(what: string, value: unknown): EngineError {
  return new EngineError('bad-model', `tokenizer.json: the ${what} ${JSON.stringify(value)?.slice(0, 200)} is not supported.`);
}

export type Normalizer = (text: string) => string;

/** A `pattern` ({"String": s} or {"Regex": r}) as a global RegExp. */
function readPattern(pattern: unknown, where: string): RegExp {
  if (isObject(pattern) && typeof pattern.String === 'string') {
    return new RegExp(pattern.String.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&'), 'gu');
  }
  if (isObject(pattern) && typeof pattern.Regex === 'string') {
    try {
      return onigRegExp(pattern.Regex);
    } catch (error) {
      if (error instanceof UnsupportedRegexError || error instanceof SyntaxError) {
        throw new EngineError('bad-model', `tokenizer.json: the ${where} regex cannot run here: ${error.message}`, undefined, { cause: error });
      }
      throw error;
    }
  }
  throw unsupported(`${where} pattern`, pattern);
}

export function readNormalizer(value: unknown): Normalizer | undefined {
  if (value === null || value === undefined) return undefined;
  if (!isObject(value)) throw unsupported('normalizer', value);
  switch (value.type) {
    case 'NFC':
    case 'NFD':
    case 'NFKC':
    case 'NFKD': {
      const form = value.type;
      return (text) => text.normalize(form);
    }
    case 'Lowercase':
      return (text) => text.toLowerCase();
    case 'Replace': {
      const pattern = readPattern(value.pattern, 'Replace normalizer');
      if (typeof value.content !== 'string') throw unsupported('normalizer', value);
      const content = value.content;
      return (text) => text.replace(pattern, () => content);
    }
    case 'Sequence': {
      if (!Array.isArray(value.normalizers)) throw unsupported('normalizer', value);
      const steps = value.normalizers.map(readNormalizer).filter((step): step is Normalizer => step !== undefined);
      return (text) => steps.reduce((current, step) => step(current), text);
    }
    default:
      throw unsupported('normalizer', value);
  }
}

/** Cuts every word of a list into more words (a pre-tokenizer step). */
export type PreTokenizer = (words: string[]) => string[];

type Behavior = 'Removed' | 'Isolated' | 'MergedWithPrevious' | 'MergedWithNext' | 'Contiguous';

/** The pieces of `text` at `pattern`'s matches, in order, covering it: [piece, isMatch]. */
function findMatches(text: string, pattern: RegExp): [string, boolean][] {
  const pieces: [string, boolean][] = [];
  let previous = 0;
  for (const match of text.matchAll(pattern)) {
    const start = match.index;
    const end = start + match[0].length;
    if (start !== previous) pieces.push([text.slice(previous, start), false]);
    pieces.push([text.slice(start, end), true]);
    previous = end;
  }
  if (previous !== text.length) pieces.push([text.slice(previous), false]);
  return pieces;
}

/** tokenizers' NormalizedString::split: what each behaviour makes of the matches. */
function split(text: string, pattern: RegExp, behavior: Behavior, invert: boolean): string[] {
  const pieces = findMatches(text, pattern).map(([piece, isMatch]): [string, boolean] => [piece, isMatch !== invert]);
  let result: string[];
  switch (behavior) {
    case 'Isolated':
      result = pieces.map(([piece]) => piece);
      break;
    case 'Removed':
      result = pieces.filter(([, isMatch]) => !isMatch).map(([piece]) => piece);
      break;
    case 'MergedWithPrevious': {
      result = [];
      let previousMatch = false;
      for (const [piece, isMatch] of pieces) {
        if (isMatch && !previousMatch && result.length > 0) result[result.length - 1] += piece;
        else result.push(piece);
        previousMatch = isMatch;
      }
      break;
    }
    case 'MergedWithNext': {
      result = [];
      let previousMatch = false;
      for (let i = pieces.length - 1; i >= 0; i--) {
        const [piece, isMatch] = pieces[i];
        if (isMatch && !previousMatch && result.length > 0) result[result.length - 1] = piece + result[result.length - 1];
        else result.push(piece);
        previousMatch = isMatch;
      }
      result.reverse();
      break;
    }
    case 'Contiguous': {
      result = [];
      let previousMatch = false;
      pieces.forEach(([piece, isMatch], index) => {
        if (index > 0 && isMatch === previousMatch) result[result.length - 1] += piece;
        else result.push(piece);
        previousMatch = isMatch;
      });
      break;
    }
  }
  return result.filter((piece) => piece !== '');
}

/** GPT-2's own split, which ByteLevel applies when use_regex is true. */
const GPT2_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

const BEHAVIORS = new Set<unknown>(['Removed', 'Isolated', 'MergedWithPrevious', 'MergedWithNext', 'Contiguous']);

export interface PreTokenization {
  run: PreTokenizer;
  /** Whether a ByteLevel step maps the words to the byte-level alphabet (the BPE then works on bytes). */
  byteLevel: boolean;
}

export function readPreTokenizer(value: unknown): PreTokenization {
  if (value === null || value === undefined) return { run: (words) => words, byteLevel: false };
  if (!isObject(value)) throw unsupported('pre_tokenizer', value);
  switch (value.type) {
    case 'Sequence': {
      if (!Array.isArray(value.pretokenizers)) throw unsupported('pre_tokenizer', value);
      const steps = value.pretokenizers.map(readPreTokenizer);
      return { run: (words) => steps.reduce((current, step) => step.run(current), words), byteLevel: steps.some((step) => step.byteLevel) };
    }
    case 'Split': {
      const pattern = readPattern(value.pattern, 'Split pre-tokenizer');
      if (!BEHAVIORS.has(value.behavior)) throw unsupported('Split behavior', value.behavior);
      const behavior = value.behavior as Behavior;
      const invert = value.invert === true;
      return { run: (words) => words.flatMap((word) => split(word, pattern, behavior, invert)), byteLevel: false };
    }
    case 'ByteLevel': {
      const addPrefixSpace = value.add_prefix_space === true;
      const pattern = value.use_regex === false ? undefined : onigRegExp(GPT2_PATTERN);
      return {
        run: (words) =>
          words.flatMap((word) => {
            const prefixed = addPrefixSpace && !word.startsWith(' ') ? ` ${word}` : word;
            const pieces = pattern ? split(prefixed, pattern, 'Isolated', false) : [prefixed];
            return pieces.map(toByteLevel);
          }),
        byteLevel: true,
      };
    }
    case 'Digits': {
      // The reference splits at ASCII digits (char::is_ascii_digit), alone or in runs.
      const pattern = value.individual_digits === true ? /[0-9]/gu : /[0-9]+/gu;
      return { run: (words) => words.flatMap((word) => split(word, pattern, 'Isolated', false)), byteLevel: false };
    }
    default:
      throw unsupported('pre_tokenizer', value);
  }
}
