import { describe, expect, it } from 'vitest';
import { parseQuestionSet } from './question-set';

describe('parseQuestionSet', () => {
  it('reads JSONL with a "question" per line (other fields ignored, blank lines and CRLF fine)', () => {
    const text = '\uFEFF{"question": "하와이 3일 여행 계획", "id": 1}\r\n\r\n{"question": "  피보나치 코드 ", "category": "code"}\r\n';
    expect(parseQuestionSet(text, 'set.jsonl')).toEqual({ name: 'set.jsonl', questions: ['하와이 3일 여행 계획', '피보나치 코드'] });
  });

  it('reads plain text, one question per line, and JSONL by its content whatever the name', () => {
    expect(parseQuestionSet('첫 질문\n\n  둘째 질문  \n', 'questions.txt').questions).toEqual(['첫 질문', '둘째 질문']);
    expect(parseQuestionSet('{"question": "q"}\n', 'pasted').questions).toEqual(['q']);
  });

  it('refuses a bad file whole, naming the line', () => {
    expect(() => parseQuestionSet('{"question": "a"}\n{"question": 3}\n', 'x.jsonl')).toThrow(/x.jsonl line 2 has no "question"/);
    expect(() => parseQuestionSet('{"question": "a"}\nnot json\n', 'x.jsonl')).toThrow(/x.jsonl line 2 is not JSON/);
    expect(() => parseQuestionSet('["a", "b"]', 'x.json')).toThrow(/line 1 has no "question"/);
    expect(() => parseQuestionSet(' \n\n', 'empty.txt')).toThrow(/holds no questions/);
    expect(() => parseQuestionSet('q\n'.repeat(1001), 'big.txt')).toThrow(/1001 questions; at most 1000/);
    expect(() => parseQuestionSet('', 'e.txt')).toThrow(expect.objectContaining({ code: 'bad-input' }));
  });
});
