import { describe, expect, it } from 'vitest';
import { realTokenizerFiles } from '../tokenizer/testing/real-tokenizers';
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

  it('a repo template that does not parse falls back to the plain Vicuna format, with a notice', () => {
    const format = repoFormat('{% for %}', tokens, 'SYS');
    expect(format.kind).toBe('vicuna');
    expect(format.notice).toMatch(/chat template does not parse .*Vicuna v1.1/);
    expect(format.render([{ role: 'user', content: 'Q' }], { addGenerationPrompt: true })).toBe('SYS USER: Q ASSISTANT:');
    expect(format.stopStrings).toEqual(['USER:']);
  });

  it('a repo template that fails to render (raise_exception) falls back from then on, with a notice', () => {
    const template = "{% if messages[0]['role'] != 'system' %}{{ raise_exception('a system message is required') }}{% endif %}[{{ messages[0]['content'] }}]";
    const format = repoFormat(template, tokens, 'SYS');
    expect(format.render([{ role: 'system', content: 'S' }], { addGenerationPrompt: true })).toBe('[S]');
    expect(format.kind).toBe('repo');
    expect(format.notice).toBeUndefined();
    expect(format.render([{ role: 'user', content: 'Q' }], { addGenerationPrompt: true })).toBe('SYS USER: Q ASSISTANT:');
    expect(format.kind).toBe('vicuna');
    expect(format.notice).toMatch(/failed to render \(.*a system message is required.*\)/);
  });

  it('escapes every message (and the default system prompt) before rendering, never the template itself', () => {
    const escape = (text: string) => `«${text}»`;
    const format = vicunaFormat({ ...tokens, escape }, 'SYS');
    expect(format.render([{ role: 'user', content: 'Q' }, { role: 'assistant', content: 'A' }, { role: 'user', content: 'R' }], { addGenerationPrompt: true })).toBe(
      '«SYS» USER: «Q» ASSISTANT: «A»</s>USER: «R» ASSISTANT:',
    );
  });

  it('leaves bos_token undefined for a tokenizer without one, as transformers does', () => {
    const template = '{% if bos_token is defined %}defined{% else %}undefined{% endif %}';
    expect(repoFormat(template, { bos: '', eos: '<|im_end|>' }).render([], { addGenerationPrompt: true })).toBe('undefined');
    expect(repoFormat(template, tokens).render([], { addGenerationPrompt: true })).toBe('defined');
  });

  it('raw passes user text through', () => {
    expect(RAW_FORMAT.render([{ role: 'system', content: 'x' }, { role: 'user', content: 'Once upon a time' }], { addGenerationPrompt: true })).toBe('Once upon a time');
  });
});

describe("the real Llama-3 and Qwen3 chat templates (tokenizer_config.json)", () => {
  const template = (name: 'llama3' | 'qwen3') => JSON.parse(realTokenizerFiles(name).tokenizerConfig).chat_template as string;
  const conversation: ChatMessage[] = [
    { role: 'system', content: '친절하게 답하세요.' },
    { role: 'user', content: '안녕?' },
    { role: 'assistant', content: '안녕하세요!' },
    { role: 'user', content: '신라는?' },
  ];

  it('Llama-3: BOS, headers, <|eot_id|> after each turn, the assistant header last', () => {
    const format = repoFormat(template('llama3'), { bos: '<|begin_of_text|>', eos: '<|eot_id|>' });
    const turn = (role: string, content: string) => `<|start_header_id|>${role}<|end_header_id|>\n\n${content}<|eot_id|>`;
    expect(format.render(conversation, { addGenerationPrompt: true })).toBe(
      `<|begin_of_text|>${turn('system', '친절하게 답하세요.')}${turn('user', '안녕?')}${turn('assistant', '안녕하세요!')}${turn('user', '신라는?')}<|start_header_id|>assistant<|end_header_id|>\n\n`,
    );
    expect(format.notice).toBeUndefined();
  });

  it('Qwen3: ChatML turns, no BOS, the assistant turn opened last', () => {
    const format = repoFormat(template('qwen3'), { bos: '', eos: '<|im_end|>' });
    const turn = (role: string, content: string) => `<|im_start|>${role}\n${content}<|im_end|>\n`;
    expect(format.render(conversation, { addGenerationPrompt: true })).toBe(
      `${turn('system', '친절하게 답하세요.')}${turn('user', '안녕?')}${turn('assistant', '안녕하세요!')}${turn('user', '신라는?')}<|im_start|>assistant\n`,
    );
    expect(format.notice).toBeUndefined();
  });
});
