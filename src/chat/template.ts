/**
 * Prompt formats, rendered with @huggingface/jinja as transformers' apply_chat_template does.
 * The default is Vicuna v1.1 (FastChat's `vicuna_v1.1`: sep " ", sep2 "</s>") with the
 * Korean-Vicuna paper's system prompt:
 *   "{system} USER: {q1} ASSISTANT: {a1}</s>USER: {q2} ASSISTANT:"
 * A repo with its own `chat_template` uses that instead; when it fails to parse or render, the
 * plain Vicuna format stands in and the format carries a notice saying why.
 * Message texts are escaped before rendering (TemplateTokens.escape), so that what a user typed
 * never becomes a control token when the rendered prompt is encoded.
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
  /** 'vicuna' (built in), 'repo' (the repo's chat_template) or 'raw' (no template). */
  readonly kind: 'vicuna' | 'repo' | 'raw';
  render(messages: ChatMessage[], options: { addGenerationPrompt: boolean }): string;
  readonly stopStrings: string[];
  /** Why the repo's own template is not what renders (it failed; the plain format stands in). */
  readonly notice?: string;
}

/** What a template sees of the tokenizer: its BOS and EOS texts, and its escape for typed text. */
export interface TemplateTokens {
  /** '' when the tokenizer has no BOS (Qwen). */
  bos: string;
  eos: string;
  /** Tokenizer.escapeText; identity when absent. */
  escape?: (text: string) => string;
}

export function vicunaFormat(specialTokens: TemplateTokens, defaultSystem = KOREAN_VICUNA_SYSTEM_PROMPT): PromptFormat {
  return jinjaFormat('vicuna', VICUNA_TEMPLATE, specialTokens, defaultSystem, VICUNA_STOP_STRINGS);
}

/**
 * The repo's chat_template. If it does not parse, or fails to render a conversation (a
 * raise_exception, a feature the renderer lacks), the plain Vicuna format renders instead, from
 * then on, and `notice` says why.
 */
export function repoFormat(chatTemplate: string, specialTokens: TemplateTokens, fallbackSystem?: string): PromptFormat {
  const fallback = (reason: string): PromptFormat => {
    const plain = vicunaFormat(specialTokens, fallbackSystem);
    return { ...plain, render: plain.render, notice: `The repo's chat template ${reason}; the plain Vicuna v1.1 format is used instead.` };
  };
  let repo: PromptFormat;
  try {
    repo = jinjaFormat('repo', chatTemplate, specialTokens, KOREAN_VICUNA_SYSTEM_PROMPT, []);
  } catch (error) {
    return fallback(`does not parse (${(error as Error).message})`);
  }
  let current = repo;
  return {
    get kind() {
      return current.kind;
    },
    get stopStrings() {
      return current.stopStrings;
    },
    get notice() {
      return current.notice;
    },
    render(messages, options) {
      if (current === repo) {
        try {
          return repo.render(messages, options);
        } catch (error) {
          current = fallback(`failed to render (${(error as Error).message})`);
        }
      }
      return current.render(messages, options);
    },
  };
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
  specialTokens: TemplateTokens,
  defaultSystem: string,
  stopStrings: string[],
): PromptFormat {
  let template: Template;
  try {
    template = new Template(source);
  } catch (error) {
    throw new EngineError('bad-model', `The chat template does not parse: ${(error as Error).message}`);
  }
  const escape = specialTokens.escape ?? ((text: string) => text);
  return {
    kind,
    stopStrings,
    render(messages, { addGenerationPrompt }) {
      try {
        return template.render({
          messages: messages.map((message) => ({ ...message, content: escape(message.content) })),
          add_generation_prompt: addGenerationPrompt,
          // A tokenizer without a BOS leaves bos_token undefined, as transformers does.
          ...(specialTokens.bos === '' ? {} : { bos_token: specialTokens.bos }),
          eos_token: specialTokens.eos,
          default_system_message: escape(defaultSystem),
          // raise_exception and strftime_now (Llama-3.1+) are @huggingface/jinja's globals, as in transformers.
        });
      } catch (error) {
        throw new EngineError('bad-model', `The chat template failed to render: ${(error as Error).message}`);
      }
    },
  };
}
