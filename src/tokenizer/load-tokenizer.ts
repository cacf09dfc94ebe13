/** A tokenizer.json of either kind: byte-level BPE where it has a ByteLevel step, else sentencepiece BPE. */
import { EngineError } from '../errors';
import { ByteLevelTokenizer } from './byte-level-tokenizer';
import { LlamaTokenizer } from './llama-tokenizer';
import type { Tokenizer, TokenizerConfigTokens } from './tokenizer';
import { parseTokenizerJsonObject } from './tokenizer-json';

/** Reads a tokenizer.json of either kind. Throws EngineError('bad-model') for one it cannot run exactly. */
export function tokenizerFromJson(text: string, tokens: TokenizerConfigTokens = {}): Tokenizer {
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch (error) {
    throw new EngineError('bad-model', `tokenizer.json is not valid JSON: ${(error as Error).message}`, undefined, { cause: error });
  }
  if (ByteLevelTokenizer.describes(root)) return new ByteLevelTokenizer(root, tokens);
  return new LlamaTokenizer(parseTokenizerJsonObject(root, { bosToken: tokens.bosToken ?? undefined, eosToken: tokens.eosToken }));
}
