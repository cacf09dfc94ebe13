/**
 * GPT-2's byte-level alphabet (openai/gpt-2 encoder.py, bytes_to_unicode), which Hugging Face's
 * ByteLevel pre-tokenizer and decoder use: each of the 256 bytes is one printable character, so
 * a byte-level vocabulary is made of ordinary strings ("Ġ" is the space byte, "ìķĪ" the three
 * bytes of 안). Printable Latin-1 bytes stand for themselves; the other 68 take U+0100 onwards.
 */

const printable = (byte: number) => (byte >= 0x21 && byte <= 0x7e) || (byte >= 0xa1 && byte <= 0xac) || (byte >= 0xae && byte <= 0xff);

/** The character of each byte. */
export const BYTE_TO_CHAR: readonly string[] = (() => {
  const chars: string[] = [];
  let next = 256;
  for (let byte = 0; byte < 256; byte++) chars.push(String.fromCharCode(printable(byte) ? byte : next++));
  return chars;
})();

/** The byte of each alphabet character. */
export const CHAR_TO_BYTE: ReadonlyMap<string, number> = new Map(BYTE_TO_CHAR.map((char, byte) => [char, byte]));

const encoder = new TextEncoder();

/** A text's UTF-8 bytes in the byte-level alphabet ("안" -> "ìķĪ"). */
export function toByteLevel(text: string): string {
  let out = '';
  for (const byte of encoder.encode(text)) out += BYTE_TO_CHAR[byte];
  return out;
}

/**
 * The bytes a token stands for, as the ByteLevel decoder reads it: each character's byte, or,
 * when some character is not in the alphabet (an added token such as " Hello" or "안녕"), the
 * token's own UTF-8.
 */
export function byteLevelBytes(token: string): Uint8Array {
  const bytes = new Uint8Array(token.length);
  for (let i = 0; i < token.length; i++) {
    const byte = CHAR_TO_BYTE.get(token[i]);
    if (byte === undefined) return encoder.encode(token);
    bytes[i] = byte;
  }
  return bytes;
}
