/**
 * tokenizer.json's regexes (the Split pre-tokenizer, Replace) are Oniguruma patterns, run by
 * Hugging Face tokenizers through the `onig` crate. JavaScript's RegExp (flags "gu") reads most
 * of them the same, but not all:
 * - `\s` is Unicode whitespace in Oniguruma (U+0009-000D, U+0085 and General_Category Z); in
 *   JavaScript it lacks U+0085 and adds U+FEFF. `\d` and `\w` are Unicode in Oniguruma, ASCII
 *   in JavaScript.
 * - `(?i:...)` (Llama-3's and Qwen's contractions) is a syntax error before ES2025; its letters
 *   become classes of their case variants here.
 * - Possessive quantifiers (`?+`, `++`, cl100k's pattern) and atomic groups `(?>...)` become the
 *   lookahead-and-backreference form `(?=(X))\N`, which matches exactly what they match.
 * - `.` excludes only "\n"; `^`/`$` are line anchors (Ruby syntax).
 * Anything else unusual (class set operations, POSIX brackets, backreferences beside atomic
 * groups) is refused by name rather than guessed.
 */

/** Oniguruma's `\s`, as the inside of a character class. */
const SPACE = '\\t-\\r\\x85\\p{Z}';
/** Oniguruma's `\w` (Unicode word characters), as the inside of a character class. */
const WORD = '\\p{L}\\p{M}\\p{Nd}\\p{Pc}';
const SYNTAX = new Set('^$\\.*+?()[]{}|/-');

/** General_Category names JavaScript accepts bare in \p{...}; anything else is taken as a script (\p{Han}). */
const CATEGORY = /^(?:[LMNPSZC][a-z]?|L&|Letter|Mark|Number|Punctuation|Symbol|Separator|Other|Any|ASCII|Alphabetic|White_Space|[A-Z][a-z]+_[A-Z][a-z_]+)$/;

export class UnsupportedRegexError extends Error {}

/** Case variants Oniguruma's case folding matches for one character (ſ folds to s, K to k). */
function caseVariants(char: string): string[] {
  const variants = new Set([char, char.toLowerCase(), char.toUpperCase()]);
  const lower = char.toLowerCase();
  if (lower === 's' || char === '\u017f') variants.add('s').add('S').add('\u017f');
  if (lower === 'k' || char === '\u212a') variants.add('k').add('K').add('\u212a');
  return [...variants].filter((v) => [...v].length === 1);
}

function escapeClassChar(char: string): string {
  return /[\\\]\[^-]/.test(char) ? `\\${char}` : char;
}

function escapeChar(char: string): string {
  return SYNTAX.has(char) ? `\\${char}` : char;
}

/** Translates an Oniguruma pattern to the source of an equivalent JavaScript RegExp with flags "gu". */
export function translateOnigPattern(pattern: string): string {
  const chars = [...pattern];
  let out = '';
  let position = 0;
  let atomics = 0;
  let usesBackreference = false;
  let addsCaptures = false;
  // Per open group: where it starts in `out`, whether it is atomic, and the case flag to restore.
  const groups: { start: number; atomic: boolean; outerIgnoreCase: boolean }[] = [];
  let ignoreCase = false;
  /** Where the last complete atom starts in `out` (for possessive quantifiers). */
  let atomStart = -1;

  const fail = (what: string): never => {
    throw new UnsupportedRegexError(`${what} (at ${position} in ${JSON.stringify(pattern)})`);
  };
  const peek = (offset = 0) => chars[position + offset];

  /** An escape (after the backslash) as class content, or undefined when it is not a class item. */
  const escapeInClass = (char: string): string => {
    switch (char) {
      case 's':
        return SPACE;
      case 'w':
        return WORD;
      case 'd':
        return '\\p{Nd}';
      case 'D':
        return '\\P{Nd}';
      case 'h':
        return '0-9a-fA-F';
      case 'S':
      case 'W':
      case 'H':
        return fail(`\\${char} inside a character class is not supported`);
      default:
        return commonEscape(char, true);
    }
  };

  /** Escapes that read the same in and out of a class. Consumes any further characters they take. */
  const commonEscape = (char: string, inClass: boolean): string => {
    if (char === 'p' || char === 'P') {
      if (peek() !== '{') fail(`\\${char} without {name}`);
      const close = chars.indexOf('}', position);
      if (close < 0) fail('unterminated \\p{');
      let name = chars.slice(position + 1, close).join('');
      position = close + 1;
      let negated = char === 'P';
      if (name.startsWith('^')) {
        negated = !negated;
        name = name.slice(1);
      }
      const property = CATEGORY.test(name) ? name : `Script=${name}`;
      return `\\${negated ? 'P' : 'p'}{${property}}`;
    }
    if (char === 'x') {
      if (peek() === '{') {
        const close = chars.indexOf('}', position);
        const hex = chars.slice(position + 1, close).join('');
        position = close + 1;
        return `\\u{${hex}}`;
      }
      const hex = chars.slice(position, position + 2).join('');
      position += 2;
      return `\\x${hex}`;
    }
    if (char === 'u') {
      const hex = chars.slice(position, position + 4).join('');
      position += 4;
      return `\\u${hex}`;
    }
    if ('tnrfv0'.includes(char)) return `\\${char}`;
    if (/[a-zA-Z0-9]/.test(char)) return fail(`the escape \\${char} is not supported`);
    return inClass ? escapeClassChar(char) : escapeChar(char);
  };

  const readClass = (): string => {
    // position is just past "["
    let body = '';
    let negated = false;
    if (peek() === '^') {
      negated = true;
      position++;
    }
    let first = true;
    while (position < chars.length) {
      const char = chars[position++];
      if (char === ']' && !first) return `[${negated ? '^' : ''}${body}]`;
      first = false;
      if (char === '[') fail('nested classes and POSIX brackets are not supported');
      if (char === '&' && peek() === '&') fail('class intersections (&&) are not supported');
      let item: string;
      let literal: string | undefined;
      if (char === '\\') {
        const escaped = chars[position++];
        item = escapeInClass(escaped);
        if (!/[a-zA-Z0-9]/.test(escaped)) literal = escaped;
      } else {
        literal = char;
        item = escapeClassChar(char);
      }
      // A range a-z.
      if (literal !== undefined && peek() === '-' && peek(1) !== undefined && peek(1) !== ']') {
        position++;
        let end = chars[position++];
        if (end === '\\') end = chars[position++];
        body += `${escapeClassChar(literal)}-${escapeClassChar(end)}`;
        if (ignoreCase) body += caseRange(literal, end);
        continue;
      }
      if (ignoreCase && literal !== undefined) body += caseVariants(literal).map(escapeClassChar).join('');
      else body += item;
    }
    return fail('unterminated character class');
  };

  /** Under (?i), the other-case range of an ASCII letter range, plus ſ and K where s and k fall in it. */
  const caseRange = (from: string, to: string): string => {
    let extra = '';
    for (const [low, high] of [['a', 'z'], ['A', 'Z']]) {
      if (from >= low && to <= high) {
        const swap = (c: string) => (low === 'a' ? c.toUpperCase() : c.toLowerCase());
        extra += `${swap(from)}-${swap(to)}`;
        if (from.toLowerCase() <= 's' && to.toLowerCase() >= 's') extra += '\u017f';
        if (from.toLowerCase() <= 'k' && to.toLowerCase() >= 'k') extra += '\u212a';
        return extra;
      }
    }
    if (/[a-zA-Z]/.test(from) || /[a-zA-Z]/.test(to)) fail('a case-insensitive range that is not all lower or all upper case letters');
    return extra;
  };

  while (position < chars.length) {
    const char = chars[position++];
    const before = out.length;
    switch (char) {
      case '\\': {
        const escaped = chars[position++];
        if (escaped === undefined) fail('a trailing backslash');
        if (escaped === 's') out += `[${SPACE}]`;
        else if (escaped === 'S') out += `[^${SPACE}]`;
        else if (escaped === 'w') out += `[${WORD}]`;
        else if (escaped === 'W') out += `[^${WORD}]`;
        else if (escaped === 'd') out += '\\p{Nd}';
        else if (escaped === 'D') out += '\\P{Nd}';
        else if (escaped === 'h') out += '[0-9a-fA-F]';
        else if (escaped === 'H') out += '[^0-9a-fA-F]';
        else if (escaped === 'A') out += '(?<![\\s\\S])';
        else if (escaped === 'z') out += '(?![\\s\\S])';
        else if (escaped === 'Z') out += '(?=\\n?(?![\\s\\S]))';
        else if (/[1-9]/.test(escaped)) {
          usesBackreference = true;
          out += `\\${escaped}`;
        } else out += commonEscape(escaped, false);
        atomStart = before;
        break;
      }
      case '[':
        out += readClass();
        atomStart = before;
        break;
      case '(': {
        if (peek() === '?') {
          const rest = chars.slice(position + 1, position + 4).join('');
          if (rest.startsWith('#')) {
            const close = chars.indexOf(')', position);
            position = close + 1;
            break;
          }
          const flags = /^([imx-]+)([:)])/.exec(chars.slice(position + 1, position + 8).join(''));
          if (flags) {
            if (/[mx]/.test(flags[1])) fail(`the inline flags (?${flags[1]}) are not supported`);
            const on = !flags[1].startsWith('-');
            position += 1 + flags[0].length;
            if (flags[2] === ')') {
              ignoreCase = on; // (?i) to the end of the enclosing group
              break;
            }
            groups.push({ start: out.length, atomic: false, outerIgnoreCase: ignoreCase });
            ignoreCase = on;
            out += '(?:';
            break;
          }
          if (rest.startsWith('>')) {
            position += 2;
            groups.push({ start: out.length, atomic: true, outerIgnoreCase: ignoreCase });
            out += '(?:';
            addsCaptures = true;
            break;
          }
          if (rest.startsWith(':') || rest.startsWith('=') || rest.startsWith('!') || rest.startsWith('<=') || rest.startsWith('<!')) {
            const length = rest.startsWith('<') ? 3 : 2;
            out += `(${chars.slice(position, position + length).join('')}`;
            position += length;
            groups.push({ start: before, atomic: false, outerIgnoreCase: ignoreCase });
            break;
          }
          if (rest.startsWith('<') || rest.startsWith("P<")) {
            const close = chars.indexOf('>', position);
            const name = chars.slice(position + (rest.startsWith('P') ? 3 : 2), close).join('');
            position = close + 1;
            out += `(?<${name}>`;
            groups.push({ start: before, atomic: false, outerIgnoreCase: ignoreCase });
            break;
          }
          fail(`the group (?${rest[0]} is not supported`);
        }
        out += '(';
        groups.push({ start: before, atomic: false, outerIgnoreCase: ignoreCase });
        break;
      }
      case ')': {
        const group = groups.pop();
        if (!group) fail('an unbalanced )');
        out += ')';
        ignoreCase = group!.outerIgnoreCase;
        if (group!.atomic) out = atomic(out, group!.start);
        atomStart = group!.start;
        break;
      }
      case '*':
      case '+':
      case '?':
      case '{': {
        let quantifier = char;
        if (char === '{') {
          const close = chars.indexOf('}', position);
          const body = chars.slice(position, close).join('');
          if (close < 0 || !/^\d*,?\d*$/.test(body) || body === ',') {
            out += '\\{'; // a literal brace, as Oniguruma reads one that is not a quantifier
            atomStart = before;
            break;
          }
          quantifier += `${body}}`;
          position = close + 1;
        }
        if (atomStart < 0) fail('a quantifier with nothing to repeat');
        out += quantifier;
        if (peek() === '?') {
          out += '?'; // lazy
          position++;
        } else if (peek() === '+') {
          position++;
          out = atomic(out, atomStart);
          addsCaptures = true;
        }
        atomStart = -1;
        break;
      }
      case '.':
        out += '[^\\n]';
        atomStart = before;
        break;
      case '^':
        out += '(?<![^\\n])';
        atomStart = -1;
        break;
      case '$':
        out += '(?![^\\n])';
        atomStart = -1;
        break;
      case '|':
        out += '|';
        atomStart = -1;
        break;
      default: {
        if (ignoreCase && /\p{L}/u.test(char)) {
          const variants = caseVariants(char);
          out += variants.length > 1 ? `[${variants.map(escapeClassChar).join('')}]` : escapeChar(char);
        } else {
          out += escapeChar(char);
        }
        atomStart = before;
      }
    }
  }
  if (groups.length > 0) fail('an unclosed (');
  if (usesBackreference && addsCaptures) fail('backreferences beside possessive quantifiers or atomic groups');

  /**
   * `source[start..]` as an atomic group: (?=(?<a>X))\k<a> matches what X matches first and never
   * backtracks into it. Named, so that wrapping an enclosing atom later renumbers nothing.
   */
  function atomic(source: string, start: number): string {
    const name = `atomic${atomics++}`;
    return `${source.slice(0, start)}(?=(?<${name}>${source.slice(start)}))\\k<${name}>`;
  }
  return out;
}

/** A global, Unicode RegExp matching what Oniguruma matches for `pattern`. */
export function onigRegExp(pattern: string): RegExp {
  return new RegExp(translateOnigPattern(pattern), 'gu');
}
