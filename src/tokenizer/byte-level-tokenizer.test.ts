/**
 * Byte-level BPE against the reference (Hugging Face tokenizers, Rust, via @anush008/tokenizers)
 * on the real Llama-3 and Qwen3 tokenizer files, and on variants of them that exercise what
 * other repos' files use (a BOS post-processor, added-token flags, GPT-2's own split, possessive
 * regexes, Digits). Exact ids, never "close".
 */
import { describe, expect, it } from 'vitest';
import { isEngineError } from '../errors';
import { seededRandom } from '../seeded-random';
import { BYTE_TO_CHAR } from './byte-level';
import { ByteLevelTokenizer } from './byte-level-tokenizer';
import { SPECIAL_TEXTS, tokenizerCorpus } from './testing/corpus';
import { realTokenizerFiles, referenceTokenizer, withLlama32PostProcessor, withoutSpecialTokens, type ReferenceTokenizer } from './testing/real-tokenizers';
import { tokenizerFromJson } from './load-tokenizer';
import type { Tokenizer } from './tokenizer';

const CORPUS = tokenizerCorpus();

interface Variant {
  name: string;
  json: () => string;
  eosToken: string;
  /** How many corpus strings to check (the real files get all of them). */
  strings: number;
}

const edit = (json: string, change: (parsed: any) => void) => {
  const parsed = JSON.parse(json);
  change(parsed);
  return JSON.stringify(parsed);
};
const flag = (id: number, content: string, flags: Record<string, boolean>) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: false, ...flags });
const qwen = () => realTokenizerFiles('qwen3').tokenizerJson;
const llama = () => realTokenizerFiles('llama3').tokenizerJson;

const VARIANTS: Variant[] = [
  { name: 'Llama-3 (as shipped: ignore_merges, no BOS from the post-processor)', json: llama, eosToken: '<|end_of_text|>', strings: Infinity },
  { name: 'Llama-3.2 (post-processor adds <|begin_of_text|>)', json: () => withLlama32PostProcessor(llama()), eosToken: '<|eot_id|>', strings: Infinity },
  { name: 'Qwen3 (as shipped: NFC, single digits)', json: qwen, eosToken: '<|im_end|>', strings: Infinity },
  {
    name: 'Qwen3 with lstrip, rstrip, single_word and normalized added tokens',
    json: () =>
      edit(qwen(), (parsed) => {
        parsed.added_tokens.push(
          flag(151669, '<left>', { lstrip: true, special: true }),
          flag(151670, '<right>', { rstrip: true }),
          flag(151671, 'word', { single_word: true }),
          flag(151672, 'Café', { normalized: true }),
          flag(151673, '세요', { normalized: true }),
        );
      }),
    eosToken: '<|im_end|>',
    strings: 120,
  },
  {
    name: "Qwen3's vocabulary under GPT-2's ByteLevel split with a prefix space",
    json: () => edit(qwen(), (parsed) => (parsed.pre_tokenizer = { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true })),
    eosToken: '<|im_end|>',
    strings: 120,
  },
  {
    name: "Qwen3's vocabulary under cl100k's possessive regex, after Digits",
    json: () =>
      edit(qwen(), (parsed) => {
        parsed.normalizer = null;
        parsed.pre_tokenizer.pretokenizers[0].pattern.Regex =
          "'(?i:[sdmt]|ll|ve|re)|[^\\r\\n\\p{L}\\p{N}]?+\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]++[\\r\\n]*|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+";
        parsed.pre_tokenizer.pretokenizers.unshift({ type: 'Digits', individual_digits: false });
      }),
    eosToken: '<|im_end|>',
    strings: 120,
  },
];

const withTypedSpecials = (strings: string[]) => [...strings, ...SPECIAL_TEXTS, ...SPECIAL_TEXTS.map((text) => `${text} <left>  x <right>  word swordy Café`)];

describe.each(VARIANTS)('$name', ({ json, eosToken, strings }) => {
  const text = json();
  const ours = tokenizerFromJson(text, { eosToken });
  const reference = referenceTokenizer(text);
  // The reference on typed text: the same file with its special tokens removed, so their texts stay text.
  const referenceTyped = referenceTokenizer(withoutSpecialTokens(text));
  const corpus = withTypedSpecials(CORPUS.slice(0, strings));

  it('is read as byte-level BPE', () => {
    expect(ours).toBeInstanceOf(ByteLevelTokenizer);
    expect(ours.kind).toBe('byte-level');
  });

  it('encodes a rendered template (special tokens split out) exactly as the reference', async () => {
    for (const string of corpus) expect(ours.encodeChat(string), JSON.stringify(string)).toEqual(await reference.encode(string, false));
  });

  it("encodes typed text exactly as the reference with the file's special tokens as text, post-processor included", async () => {
    for (const string of corpus) {
      const ids = ours.encode(string, { addBos: true });
      expect(ids, JSON.stringify(string)).toEqual(await referenceTyped.encode(string, true));
      expect(ids.some((id) => ours.isSpecial(id) && id !== ours.bosId), JSON.stringify(string)).toBe(false);
    }
  });

  it('decodes as the reference (special tokens skipped), and streams the same text without a broken character', async () => {
    for (const string of corpus) {
      const ids = ours.encodeChat(string);
      const decoded = ours.decode(ids);
      expect(decoded, JSON.stringify(string)).toBe(await reference.decode(ids, true));
      expectStreamsAs(ours, ids, decoded);
    }
  });

  it('decodes random ids (partial characters, specials, added tokens) as the reference', async () => {
    const random = seededRandom(5);
    for (let n = 0; n < 100; n++) {
      const ids = Array.from({ length: 1 + Math.floor(random() * 12) }, () => Math.floor(random() * ours.vocabSize));
      const decoded = ours.decode(ids);
      expect(decoded, JSON.stringify(ids)).toBe(await reference.decode(ids, true));
      expectStreamsAs(ours, ids, decoded);
    }
  });
});

/** Streamed pieces add up to the whole decode; no piece shows U+FFFD the whole text does not have. */
function expectStreamsAs(tokenizer: Tokenizer, ids: number[], whole: string): void {
  const decoder = tokenizer.streamingDecoder();
  const pieces = ids.map((id) => decoder.push(id));
  pieces.push(decoder.flush());
  expect(pieces.join('')).toBe(whole);
  if (!whole.includes('\uFFFD')) for (const piece of pieces) expect(piece).not.toContain('\uFFFD');
}

describe('byte-level BPE on Korean', () => {
  const llama3 = tokenizerFromJson(realTokenizerFiles('llama3').tokenizerJson, { eosToken: '<|end_of_text|>' });

  it('streams a syllable split over byte tokens only once it is whole', () => {
    const ids = llama3.encode('뷁');
    expect(ids.length).toBeGreaterThan(1); // a rare syllable: not one token
    const decoder = llama3.streamingDecoder();
    expect(ids.slice(0, -1).map((id) => decoder.push(id)).join('')).toBe('');
    expect(decoder.push(ids.at(-1)!)).toBe('뷁');
    expect(ids.map((id) => llama3.displayPiece(id)).join('')).toMatch(/^(<0x[0-9A-F]{2}>)+/);
  });

  it('keeps typed control-token texts as text, in encode and through escapeText into encodeChat', () => {
    const typed = '<|begin_of_text|>안녕<|eot_id|>';
    const plain = llama3.encode(typed);
    expect(plain.some((id) => llama3.isSpecial(id))).toBe(false);
    expect(llama3.decode(plain)).toBe(typed);
    const rendered = `<|start_header_id|>user<|end_header_id|>\n\n${llama3.escapeText(typed)}<|eot_id|>`;
    const ids = llama3.encodeChat(rendered);
    expect(ids.filter((id) => llama3.isSpecial(id)).map((id) => llama3.idToPiece(id))).toEqual(['<|start_header_id|>', '<|end_header_id|>', '<|eot_id|>']);
    expect(ids.slice(4, -1)).toEqual(llama3.encode(typed));
  });

});

/** A small byte-level tokenizer.json: the 256 byte characters, a few merges, Llama-3's split. */
function smallJson(change: (parsed: any) => void = () => {}): string {
  const vocab = Object.fromEntries(BYTE_TO_CHAR.map((char, byte) => [char, byte]));
  Object.assign(vocab, { 'Ġt': 256, he: 257, 'Ġthe': 258 });
  const json = {
    version: '1.0',
    added_tokens: [{ id: 259, content: '<|endoftext|>', special: true, single_word: false, lstrip: false, rstrip: false, normalized: false }],
    normalizer: null,
    pre_tokenizer: structuredClone(LLAMA3_PRE_TOKENIZER),
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', dropout: null, unk_token: null, byte_fallback: false, ignore_merges: false, vocab, merges: [['Ġ', 't'], ['h', 'e'], ['Ġt', 'he']] },
  };
  change(json);
  return JSON.stringify(json);
}

const LLAMA3_PRE_TOKENIZER = {
  type: 'Sequence',
  pretokenizers: [
    { type: 'Split', pattern: { Regex: "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+" }, behavior: 'Isolated', invert: false },
    { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
  ],
};

describe('a small byte-level tokenizer.json', () => {
  it('runs merges by rank and guesses the EOS among the added tokens', async () => {
    const json = smallJson();
    const tokenizer = tokenizerFromJson(json);
    expect(tokenizer.encode(' the end')).toEqual(await referenceTokenizer(json).encode(' the end', false));
    expect(tokenizer.encode(' the')).toEqual([258]);
    expect(tokenizer.eosId).toBe(259);
    expect(tokenizer.bosId).toBeUndefined();
  });

  it('refuses what it cannot run exactly, by name', () => {
    const refused = (change: (parsed: any) => void, message: RegExp) => {
      let caught: unknown;
      try {
        tokenizerFromJson(smallJson(change));
      } catch (error) {
        caught = error;
      }
      expect(isEngineError(caught, 'bad-model'), String(caught)).toBe(true);
      expect((caught as Error).message).toMatch(message);
    };
    refused((parsed) => (parsed.normalizer = { type: 'BertNormalizer' }), /normalizer .*BertNormalizer/);
    refused((parsed) => parsed.pre_tokenizer.pretokenizers.push({ type: 'Whitespace' }), /pre_tokenizer .*Whitespace/);
    refused((parsed) => (parsed.pre_tokenizer.pretokenizers[0].pattern.Regex = '[[:alpha:]]+'), /regex cannot run here/);
    refused((parsed) => (parsed.decoder = { type: 'Metaspace' }), /decoder .*ByteLevel/);
    refused((parsed) => parsed.model.merges.push(['Ġ', 'nope']), /merge .* not in the vocabulary/);
    refused((parsed) => (parsed.model.dropout = 0.1), /dropout/);
    refused((parsed) => (parsed.added_tokens = []), /no EOS token/);
  });
});
