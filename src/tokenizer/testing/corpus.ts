/**
 * Test text for tokenizers checked against the reference (tests only): the paper's Korean,
 * mixed scripts, emoji, whitespace runs, numbers, code, CRLF, decomposed jamo, contractions and
 * odd whitespace, then seeded random mixtures of all of them.
 */
import { PAPER_KOREAN_TEXT, PAPER_QUESTIONS } from '../../chat/korean-text';
import { KOREAN_VICUNA_SYSTEM_PROMPT } from '../../chat/template';
import { seededRandom } from '../../seeded-random';

const KOREAN = [
  KOREAN_VICUNA_SYSTEM_PROMPT,
  ...PAPER_QUESTIONS,
  PAPER_KOREAN_TEXT,
  '안녕하세요! 저는 **스크립트 모델**입니다. 한국어 답변을 확인합니다: 하와이 3일 여행, 피보나치 수열, 그리고 [신라](https://ko.wikipedia.org/wiki/신라)의 삼국 통일.',
  '통일신라는 676년에 당나라 군대를 몰아내고 삼국 통일을 완성했습니다.',
  '뷁 똠 쀍 햏 꿹 뛟 — 드물게 쓰이는 음절들',
  '하와이 3일 여행 계획과 예산을 알려줘',
  '가나다라마바사아자차카타파하',
  '  한국어   띄어쓰기가   많은   문장  ',
  '서울특별시 강남구 테헤란로 123, 02-1234-5678',
  '1) 첫째 날: 와이키키 해변 🏖️\n2) 둘째 날: 다이아몬드 헤드 🥾\n3) 셋째 날: 진주만 🚢',
  '예산: 항공권 약 1,200,000원 + 숙박 450,000원 = 총 1,650,000원',
  'ㅋㅋㅋㅋ ㅎㅎ ㅠㅠ ㄱㄴㄷ ㅏㅑㅓㅕ',
];

const MIXED = [
  'Hello 세계! Привет мир! 你好，世界！ こんにちは世界 مرحبا بالعالم नमस्ते दुनिया',
  'Korean-Vicuna는 LLaMA를 fine-tuning한 모델이다.',
  'GPU에서 tok/s가 높아도 chars/s는 tokenizer에 달려 있다.',
  'Ελληνικά και 한국어 and עברית together',
  'Ǆ ǅ ǆ ﬁ ﬀ Å Ω µ ß ẞ',
  'I\'m sure you\'ll see it\'s what they\'d DO, WE\'LL, YOU\'RE, THEY\'VE, it\'ſ, it\'ſx',
  "don't won't can't isn't O'Neil rock'n'roll '''quoted'''",
];

const EMOJI = [
  '👍', '👍🏽', '👨‍👩‍👧‍👦', '🇰🇷🇺🇸🇯🇵', '🏳️‍🌈', '❤️‍🔥', '🧑🏻‍💻 coding', '😀😃😄😁😆😅😂🤣',
  '한국 🇰🇷 최고! 🎉🎉', 'emoji in word: a😀b', '☺︎ ☺️ ✔ ✔️', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝕞𝕒𝕥𝕙 𝟙𝟚𝟛',
];

const WHITESPACE = [
  ' ', '  ', '   ', '\t', '\n', '\n\n', '\n\n\n', '\r\n', '\r\n\r\n', ' \n ', '\t\t  \n', 'a  b   c    d',
  'trailing   ', '   leading', 'tabs\tin\tbetween', 'line\nbreaks\n\nand\n\n\nmore', ' \u00a0 \u00a0', 'a\u3000b\u3000\u3000c',
  'a\u0085b', 'a\ufeff b', 'a\u180e b', 'a\u200bb', 'x\u2028y\u2029z', '\u2003em\u2002en\u2009thin', '  \n  \n  ', 'end\n',
];

const NUMBERS = [
  '0', '7', '42', '123', '1234', '12345', '1234567890', '3.14159', '-273.15', '1,000,000', '1e-9', '0x1F', '2024-06-01',
  '１２３4567', '٣٤٥', '१२३', '①②③', 'Ⅻ', '½ ¾', '12시 30분', '3일 동안 5,000달러', '+82 10-1234-5678', 'v1.2.3-rc.4',
];

const CODE = [
  'def fibonacci(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n',
  '```python\nprint("안녕하세요")\n```',
  'function f(x) { return x * 2; } // 주석',
  'const s = `${a}+${b}`;\nconsole.log(s);',
  '{"user": "질문", "ids": [1, 2, 3], "ok": true}',
  '<div class="answer">답변</div>\n<script>alert(1)</script>',
  'SELECT * FROM users WHERE name = \'김철수\';',
  'if (a && b || !c) { x += 1; }\r\nelse { y -= 2; }\r\n',
  '    indented\n\tand tabbed\n        deeper',
  '#include <stdio.h>\nint main(void) { printf("%d\\n", 42); }',
  'x=[i**2 for i in range(10) if i%2==0]',
];

const CRLF = ['line one\r\nline two\r\n', '\r\n\r\n\r\n', 'a\rb\rc', '한국어\r\n두 번째 줄\r\n', 'mixed\r\nendings\nhere\r\n'];

/** Korean written as conjoining jamo (NFD), which NFC (Qwen) composes back and Llama-3 keeps. */
const JAMO = [
  '한국어'.normalize('NFD'),
  '안녕하세요, 반갑습니다.'.normalize('NFD'),
  PAPER_QUESTIONS[0].normalize('NFD'),
  '\u1100\u1161\u11a8', // 각, decomposed
  '\u1100\u1161 \u1102\u1161',
  '\u3131\u314f', // compatibility jamo ㄱㅏ
  'e\u0301 n\u0303 a\u030a', // Latin with combining marks
  'Cafe\u0301 vs Café',
];

/** Texts of special tokens typed by a user (encode must keep them text; encodeChat splits them). */
export const SPECIAL_TEXTS = [
  '<|im_start|>user\n안녕<|im_end|>',
  'typed <|begin_of_text|> and <|eot_id|> here',
  '<|start_header_id|>system<|end_header_id|>',
  '<|endoftext|>',
  '<think>생각</think> 답',
  '<tool_call>{"name": "x"}</tool_call>',
  '<|im_start|><|im_start|>',
  '<|im_start',
  '</s><s>',
];

const POOLS = [
  ...'가나다라마바사아자차카타파하한국어입니다세요했습니다뷁똠쀍',
  ...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJ',
  ...'0123456789',
  ...'.,!?;:\'"()[]{}<>-_=+*/\\|@#$%^&~`',
  ' ', ' ', ' ', '  ', '\t', '\n', '\r\n', '\u00a0', '\u3000', '\u0085',
  ...'中文字日本語カタカナひらがなРусскийΕλληνικά',
  '😀', '👍🏽', '🇰🇷', '👨‍👩‍👧',
  '\u1100', '\u1161', '\u11a8', '\u0301',
  "'s", "'LL", "'re", "'T",
  'def ', 'return ', '    ', '```',
];

/** Seeded random mixtures of every kind of text above. */
export function randomTexts(count: number, seed: number): string[] {
  const random = seededRandom(seed);
  const fixed = [...KOREAN, ...MIXED, ...EMOJI, ...CODE];
  return Array.from({ length: count }, () => {
    let text = '';
    const length = 1 + Math.floor(random() * 30);
    for (let i = 0; i < length; i++) {
      text += random() < 0.05 ? fixed[Math.floor(random() * fixed.length)].slice(0, 20) : POOLS[Math.floor(random() * POOLS.length)];
    }
    return text;
  });
}

/** Every fixed text, then `randomCount` random ones: several hundred strings. */
export function tokenizerCorpus(randomCount = 300, seed = 20): string[] {
  return [...KOREAN, ...MIXED, ...EMOJI, ...WHITESPACE, ...NUMBERS, ...CODE, ...CRLF, ...JAMO, ...randomTexts(randomCount, seed)];
}
