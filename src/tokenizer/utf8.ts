/**
 * UTF-8 for byte-fallback pieces, decoded the way sentencepiece's Decode does it
 * (sentencepiece_processor.cc, ProcessBytePieces): each well-formed character becomes itself and
 * each byte that does not begin one becomes U+FFFD on its own. TextDecoder's replacement rule
 * differs (one U+FFFD per maximal ill-formed subpart), so it is not used here.
 */

/** The range the second byte must be in after each lead byte, and the character's length. */
function leadByte(byte: number): { length: number; secondLow: number; secondHigh: number } | undefined {
  if (byte >= 0xc2 && byte <= 0xdf) return { length: 2, secondLow: 0x80, secondHigh: 0xbf };
  if (byte === 0xe0) return { length: 3, secondLow: 0xa0, secondHigh: 0xbf }; // no overlong forms
  if (byte === 0xed) return { length: 3, secondLow: 0x80, secondHigh: 0x9f }; // no surrogates
  if (byte >= 0xe1 && byte <= 0xef) return { length: 3, secondLow: 0x80, secondHigh: 0xbf };
  if (byte === 0xf0) return { length: 4, secondLow: 0x90, secondHigh: 0xbf };
  if (byte >= 0xf1 && byte <= 0xf3) return { length: 4, secondLow: 0x80, secondHigh: 0xbf };
  if (byte === 0xf4) return { length: 4, secondLow: 0x80, secondHigh: 0x8f }; // nothing past U+10FFFF
  return undefined;
}

/**
 * Decodes `bytes` from the start. With `final` false it stops before a trailing character that
 * later bytes could still complete, so a stream never emits half a character; with `final` true
 * such a tail becomes U+FFFD per byte, as at the end of a sentencepiece decode.
 * Returns the text and how many bytes it used.
 */
export function decodeUtf8(bytes: readonly number[], final: boolean): { text: string; consumed: number } {
  let text = '';
  let offset = 0;
  outer: while (offset < bytes.length) {
    const first = bytes[offset];
    if (first < 0x80) {
      text += String.fromCharCode(first);
      offset++;
      continue;
    }
    const lead = leadByte(first);
    if (lead) {
      let codePoint = first & (0xff >> (lead.length + 1));
      for (let index = 1; index < lead.length; index++) {
        if (offset + index === bytes.length) {
          if (!final) break outer; // a valid beginning: wait for the rest
          break; // cut short for good
        }
        const byte = bytes[offset + index];
        const [low, high] = index === 1 ? [lead.secondLow, lead.secondHigh] : [0x80, 0xbf];
        if (byte < low || byte > high) break;
        codePoint = (codePoint << 6) | (byte & 0x3f);
        if (index === lead.length - 1) {
          text += String.fromCodePoint(codePoint);
          offset += lead.length;
          continue outer;
        }
      }
    }
    text += '\uFFFD';
    offset++;
  }
  return { text, consumed: offset };
}

/** A code point's UTF-8 bytes, for byte fallback of characters the vocabulary lacks. */
export function utf8BytesOf(codePoint: number): number[] {
  if (codePoint < 0x80) return [codePoint];
  if (codePoint < 0x800) return [0xc0 | (codePoint >> 6), 0x80 | (codePoint & 0x3f)];
  if (codePoint < 0x10000) {
    return [0xe0 | (codePoint >> 12), 0x80 | ((codePoint >> 6) & 0x3f), 0x80 | (codePoint & 0x3f)];
  }
  return [0xf0 | (codePoint >> 18), 0x80 | ((codePoint >> 12) & 0x3f), 0x80 | ((codePoint >> 6) & 0x3f), 0x80 | (codePoint & 0x3f)];
}
