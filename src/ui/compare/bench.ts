/** Compare as an evaluation bench: blind votes, question sets and token probabilities, made once at start. */
import type { EngineClient } from '../../worker/client';
import type { ChatController } from '../chat/chat-controller';
import type { ModelSlots } from '../models/model-slots';
import { QuestionSetController } from './question-sets';
import { ScoreController } from './score-controller';
import type { SettingsStore } from '../settings/settings';
import { VoteStore } from './votes';

export interface Bench {
  votes: VoteStore;
  sets: QuestionSetController;
  scores: ScoreController;
}

/** Reads the saved votes, blind setting and question-set run before the app shows. */
export async function openBench(client: EngineClient, slots: ModelSlots, chats: ChatController, settings: SettingsStore): Promise<Bench> {
  const votes = new VoteStore(settings);
  const sets = new QuestionSetController(slots, chats, settings, votes);
  await Promise.all([votes.open(), sets.open()]);
  return { votes, sets, scores: new ScoreController(client, slots, chats) };
}
