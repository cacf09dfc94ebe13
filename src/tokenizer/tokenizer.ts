/**
 * What the engine, the chat loop, the CLI and the app know of a tokenizer. Two kinds implement
 * it: sentencepiece BPE (LLaMA-1/2: tokenizer.model, or its tokenizer.json spelling) and
 * byte-level BPE (Llama-3, Qwen2/3, Mistral-Nemo, EXAONE: tokenizer.json with a ByteLevel step).
 * `tokenizerFromJson` (load-tokenizer.ts) picks the kind a tokenizer.json describes.
 */

export interface EncodeOptions {
  /**
   * Add what the tokenizer puts around a text (transformers' add_special_tokens): sentencepiece's
   * BOS; tokenizer.json's post-processor (Llama-3.2 adds <|begin_of_text|>, Qwen nothing).
   * Default false.
   */
  addBos?: boolean;
}

/** Generated ids to text, one id at a time, never half a character. */
export interface TokenDecoder {
  /** The text `id` completes: possibly empty (a special token, a byte of an unfinished character). */
  push(id: number): string;
  /** Ends the stream: bytes of a character that never completed become U+FFFD. */
  flush(): string;
}

export interface Tokenizer {
  readonly kind: 'sentencepiece' | 'byte-level';
  /** Ids the tokenizer knows (its vocabulary and added tokens); a model's vocab_size may be larger. */
  readonly vocabSize: number;
  /** The BOS a prompt starts with; undefined for tokenizers without one (Qwen). */
  readonly bosId: number | undefined;
  /** tokenizer_config.json's eos_token: what templates write as `eos_token`. */
  readonly eosId: number;
  /** Text a user typed: special-token texts in it ("<|im_start|>", "</s>") stay text. */
  encode(text: string, options?: EncodeOptions): number[];
  /**
   * A rendered chat template: special-token texts become their ids, except inside text passed
   * through `escapeText` before rendering, which comes back as the text it was.
   */
  encodeChat(text: string, options?: EncodeOptions): number[];
  /** Typed text made safe to render into a template for encodeChat (special-text.ts). */
  escapeText(text: string): string;
  /** Special tokens vanish; the rest is the text the ids spell. */
  decode(ids: readonly number[]): string;
  streamingDecoder(): TokenDecoder;
  /**
   * The bytes one token adds to a decoded text: sentencepiece's "▁" is a space and a byte piece
   * its byte; a byte-level token its bytes; a special token none.
   */
  tokenBytes(id: number): Uint8Array;
  /** The vocabulary entry ("▁Hello", "<0x0A>", "ìķĪ", "<|eot_id|>"). */
  idToPiece(id: number): string;
  /** A piece as a person reads it in a token view: byte-level entries decoded ("ìķĪ" -> "안"). */
  displayPiece(id: number): string;
  pieceToId(piece: string): number | undefined;
  /** Control tokens: BOS, EOS, tokenizer.json's special added tokens. */
  isSpecial(id: number): boolean;
  /** Throws bad-input for an id the tokenizer does not know. */
  checkId(id: number): void;
}

export interface TokenizerConfigTokens {
  /** tokenizer_config.json's bos_token (null when the config says it has none). */
  bosToken?: string | null;
  eosToken?: string;
}
