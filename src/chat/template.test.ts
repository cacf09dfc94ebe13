import { describe, expect, it } from 'vitest';
import { KOREAN_VICUNA_SYSTEM_PROMPT, RAW_FORMAT, repoFormat, vicunaFormat, type ChatMessage } from './template';

const tokens = { bos: '<s>', eos: '</s>' };

/** FastChat's Conversation.get_prompt for vicuna_v1.1, written out by hand. */
function fastChatVicuna(system: string, turns: [string, string | null][]): string {
  let text = `${system} `;
  for (const [question, answer] of turns) {
    text += `USER: ${question} `;
    text += answer === null ? 'ASSISTANT:' : `ASSISTANT: ${answer}</s>`;
  }
  return text;
}

describe('vicuna v1.1 template', () => {
  const format = vicunaFormat(tokens);

  it('one question with the paper system prompt by default', () => {
    const messages: ChatMessage[] = [{ role: 'user', content: '하와이 3일 여행 계획과 예산을 알려줘' }];
    expect(format.render(messages, { addGenerationPrompt: true })).toBe(
      fastChatVicuna(KOREAN_VICUNA_SYSTEM_PROMPT, [['하와이 3일 여행 계획과 예산을 알려줘', null]]),
    );
  });

  it('multi-turn with an explicit system prompt: answers end in </s>, no space after it', () => {
    const messages: ChatMessage[] = [
      { role: 'system', content: 'SYS' },
      { role: 'user', content: 'Q1' },
      { role: 'assistant', content: 'A1' },
      { role: 'user', content: 'Q2' },
    ];
    const text = format.render(messages, { addGenerationPrompt: true });
    expect(text).toBe('SYS USER: Q1 ASSISTANT: A1</s>USER: Q2 ASSISTANT:');
    expect(text).toBe(fastChatVicuna('SYS', [['Q1', 'A1'], ['Q2', null]]));
  });

  it('stops on a new USER: turn', () => {
    expect(format.stopStrings).toContain('USER:');
  });
});

describe('repo and raw formats', () => {
  it("renders a repo's own chat_template with bos/eos tokens", () => {
    const template = "{{ bos_token }}{% for m in messages %}[{{ m['role'] }}] {{ m['content'] }}{{ eos_token }}{% endfor %}{% if add_generation_prompt %}[assistant]{% endif %}";
    const text = repoFormat(template, tokens).render([{ role: 'user', content: 'hi' }], { addGenerationPrompt: true });
    expect(text).toBe('<s>[user] hi</s>[assistant]');
  });

  it('a malformed repo template is a bad-model error', () => {
    expect(() => repoFormat('{% for %}', tokens)).toThrow(expect.objectContaining({ code: 'bad-model' }));
  });

  it('raw passes user text through', () => {
    expect(RAW_FORMAT.render([{ role: 'system', content: 'x' }, { role: 'user', content: 'Once upon a time' }], { addGenerationPrompt: true })).toBe('Once upon a time');
  });
});
