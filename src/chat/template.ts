/**
 * Prompt formats, rendered with @huggingface/jinja as transformers' apply_chat_template does.
 * The default is Vicuna v1.1 (FastChat's `vicuna_v1.1`: sep " ", sep2 "</s>") with the
 * Korean-Vicuna paper's system prompt:
 *   "{system} USER: {q1} ASSISTANT: {a1}</s>USER: {q2} ASSISTANT:"
 * A repo whose tokenizer_config.json carries its own `chat_template` uses that instead.
 */
import { Template } from '@huggingface/jinja';
import { EngineError } from '../errors';

export const KOREAN_VICUNA_SYSTEM_PROMPT =
  '호기심 많은 USER와 인공지능 ASSISTANT 간의 채팅. ASSISTANT가 USER의 질문에 대해 유용하고 상세하며 정중한 답변을 제공합니다.';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export const VICUNA_TEMPLATE = [
  "{%- if messages[0]['role'] == 'system' -%}",
  "{%- set system_message = messages[0]['content'] -%}{%- set loop_messages = messages[1:] -%}",
  '{%- else -%}',
  '{%- set system_message = default_system_message -%}{%- set loop_messages = messages -%}',
  '{%- endif -%}',
  "{{- system_message + ' ' -}}",
  '{%- for message in loop_messages -%}',
  "{%- if message['role'] == 'user' -%}",
  "{{- 'USER: ' + message['content'] + ' ' -}}",
  '{%- else -%}',
  "{{- 'ASSISTANT: ' + message['content'] + eos_token -}}",
  '{%- endif -%}',
  '{%- endfor -%}',
  "{%- if add_generation_prompt -%}{{- 'ASSISTANT:' -}}{%- endif -%}",
].join('');

/** Text that marks the model starting a new user turn: a base model never learned to stop. */
export const VICUNA_STOP_STRINGS = ['USER:'];

export interface PromptFormat {
  /** 'vicuna' (built in), 'repo' (tokenizer_config.json's chat_template) or 'raw' (no template). */
  kind: 'vicuna' | 'repo' | 'raw';
  render(messages: ChatMessage[], options: { addGenerationPrompt: boolean }): string;
  stopStrings: string[];
}

export function vicunaFormat(specialTokens: { bos: string; eos: string }, defaultSystem = KOREAN_VICUNA_SYSTEM_PROMPT): PromptFormat {
  return jinjaFormat('vicuna', VICUNA_TEMPLATE, specialTokens, defaultSystem, VICUNA_STOP_STRINGS);
}

export function repoFormat(chatTemplate: string, specialTokens: { bos: string; eos: string }): PromptFormat {
  return jinjaFormat('repo', chatTemplate, specialTokens, KOREAN_VICUNA_SYSTEM_PROMPT, []);
}

/** The prompt as typed, no turns: for base-model completion. */
export const RAW_FORMAT: PromptFormat = {
  kind: 'raw',
  render: (messages) => messages.filter((m) => m.role !== 'system').map((m) => m.content).join('\n'),
  stopStrings: [],
};

function jinjaFormat(
  kind: 'vicuna' | 'repo',
  source: string,
  specialTokens: { bos: string; eos: string },
  defaultSystem: string,
  stopStrings: string[],
): PromptFormat {
  let template: Template;
  try {
    template = new Template(source);
  } catch (error) {
    throw new EngineError('bad-model', `The chat template does not parse: ${(error as Error).message}`);
  }
  return {
    kind,
    stopStrings,
    render(messages, { addGenerationPrompt }) {
      try {
        return template.render({
          messages,
          add_generation_prompt: addGenerationPrompt,
          bos_token: specialTokens.bos,
          eos_token: specialTokens.eos,
          default_system_message: defaultSystem,
        });
      } catch (error) {
        throw new EngineError('bad-model', `The chat template failed to render: ${(error as Error).message}`);
      }
    },
  };
}
