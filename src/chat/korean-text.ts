/**
 * The Korean-Vicuna paper's Korean: its system prompt and the three questions it shows its model
 * answering. Tokens per Hangul syllable are measured on this text (model info, README), so the
 * numbers compare tokenizers on the Korean this app is about.
 */
import { KOREAN_VICUNA_SYSTEM_PROMPT } from './template';

export const PAPER_QUESTIONS = [
  '하와이로 3일 동안 여행을 가려고 해요. 일정별 여행 계획과 예상 예산을 짜 주세요.',
  '피보나치 수열을 계산하는 파이썬 코드를 작성하고, 코드가 어떻게 동작하는지 설명해 주세요.',
  '삼국 통일 이후 신라는 어떻게 변화했나요? 정치, 사회, 문화 측면에서 설명해 주세요.',
] as const;

export const PAPER_KOREAN_TEXT = [KOREAN_VICUNA_SYSTEM_PROMPT, ...PAPER_QUESTIONS].join('\n');
