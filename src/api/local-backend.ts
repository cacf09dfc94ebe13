/**
 * The EngineBackend over ChatEngines loaded in this process (Node: `serve` and its benchmark),
 * by model id. Kept apart from backend.ts so the browser library never bundles the engine itself.
 */
import { generationDone, type ChatEngine, type GenerationDone, type GenerationSettings } from '../chat/engine';
import { EngineError } from '../errors';
import type { EngineBackend, GenerateCall } from './backend';
import type { GenerationInput } from './validate';

/** ChatEngines loaded in this process (Node: `serve`, the bench), by model id. */
export class LocalBackend implements EngineBackend {
  constructor(readonly engines: Map<string, ChatEngine>) {}

  async generate(model: string, input: GenerationInput, settings: GenerationSettings, call: GenerateCall): Promise<GenerationDone> {
    const engine = this.engines.get(model);
    if (!engine) throw new EngineError('not-found', `No model ${model} is loaded`);
    const result = 'messages' in input ? await engine.chat(input.messages, settings, call) : await engine.complete(input.prompt, settings, call);
    return generationDone(result, engine.session.contextLength);
  }
}
