/**
 * What the OpenAI-shaped client (engine-api.ts) drives: loaded models that generate. Two
 * implementations, one generation: in the browser the engine worker (here, for the app and the
 * library), in Node the ChatEngines in the process (local-backend.ts, for `serve`). Both end in
 * ChatEngine.chat / ChatEngine.complete.
 */
import type { GenerationDone, GenerationSettings } from '../chat/engine';
import type { GeneratedToken } from '../chat/token-text';
import type { EngineClient } from '../worker/client';
import type { GenerationInput } from './validate';

export interface GenerateCall {
  /** Stops the answer where it is: the result then has finishReason 'cancelled'. */
  signal?: AbortSignal;
  onText?: (text: string, tokens: GeneratedToken[]) => void;
}

export interface EngineBackend {
  /** One answer from `model`; one at a time per model (the caller queues). */
  generate(model: string, input: GenerationInput, settings: GenerationSettings, call: GenerateCall): Promise<GenerationDone>;
}

/** The engine worker, where each model id is the slot it was loaded into. */
export class WorkerBackend implements EngineBackend {
  constructor(readonly client: EngineClient) {}

  async generate(model: string, input: GenerationInput, settings: GenerationSettings, call: GenerateCall): Promise<GenerationDone> {
    const run = 'messages' in input ? this.client.generate(model, input.messages, settings, call.onText) : this.client.complete(model, input.prompt, settings, call.onText);
    const stop = () => void this.client.stop(run.requestId);
    call.signal?.addEventListener('abort', stop, { once: true });
    try {
      return await run.result;
    } finally {
      call.signal?.removeEventListener('abort', stop);
    }
  }
}
