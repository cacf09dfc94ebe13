/**
 * Token probabilities in the UI: scores an answer or a pasted text under a tab's model (loading
 * it into its slot first, as sending a message does) and hands back the worker's spans.
 */
import type { ScoredText, ScoreInput } from '../../chat/score';
import type { EngineClient } from '../../worker/client';
import type { ChatController } from '../chat/chat-controller';
import type { ModelSlots } from '../models/model-slots';
import type { ModelTab } from '../common/tabs';

export class ScoreController {
  constructor(
    private readonly client: EngineClient,
    private readonly slots: ModelSlots,
    private readonly chats: ChatController,
  ) {}

  async score(model: ModelTab, input: ScoreInput): Promise<ScoredText> {
    await this.slots.ensure(model.id, this.chats.target(model));
    // Busy like a generation: the tabs that share the slot wait (scoring rewrites its KV cache).
    this.slots.setGenerating(model.id, true);
    try {
      return await this.client.score(model.id, input).result;
    } finally {
      this.slots.setGenerating(model.id, false);
    }
  }
}
