/**
 * Korean-capable repos the custom tab offers, with what a user should know before downloading:
 * the family, the size and the license (as each model card states it; the load-cost panel then
 * shows the card's own license line too). Byte-level BPE tokenizers all: far fewer tokens per
 * Hangul syllable than LLaMA-1's sentencepiece.
 */
export interface SuggestedRepo {
  repo: string;
  /** What it is, in a few words. */
  about: string;
  params: string;
  license: string;
  /** The hub asks for an accepted license and an access token (settings) first. */
  gated?: boolean;
}

export const KOREAN_REPOS: readonly SuggestedRepo[] = [
  { repo: 'Bllossom/llama-3.2-Korean-Bllossom-3B', about: 'Llama-3.2-3B 한국어 파인튜닝 (Bllossom)', params: '3B', license: 'Llama 3.2 Community License' },
  { repo: 'meta-llama/Llama-3.2-3B-Instruct', about: 'Bllossom과 비교할 원본 Llama-3.2-3B', params: '3B', license: 'Llama 3.2 Community License', gated: true },
  { repo: 'Qwen/Qwen2.5-1.5B-Instruct', about: 'Qwen2.5, 다국어 (한국어 포함)', params: '1.5B', license: 'Apache-2.0' },
  { repo: 'Qwen/Qwen2.5-7B-Instruct', about: 'Qwen2.5, 다국어 (한국어 포함)', params: '7B', license: 'Apache-2.0' },
  { repo: 'Qwen/Qwen3-1.7B', about: 'Qwen3, 생각(<think>) 모드 기본', params: '1.7B', license: 'Apache-2.0' },
  { repo: 'LGAI-EXAONE/EXAONE-3.5-2.4B-Instruct', about: 'LG AI 연구원 EXAONE 3.5, 한국어·영어', params: '2.4B', license: 'EXAONE AI Model License 1.1 - NC (비상업적 이용만)' },
];
