/**
 * A LLaMA sentencepiece model as the tokenizer.json transformers' LlamaConverter writes for it:
 * the vocabulary, and as merges every split of every normal piece into two normal pieces, in
 * piece-score order. Used to build test repos that ship tokenizer.json instead of
 * tokenizer.model, and to check that both paths tokenize alike.
 */
import type { SentencePieceModel } from './sentencepiece-model';

const special = (id: number, content: string) => ({ id, content, special: true, lstrip: false, rstrip: false, normalized: false, single_word: false });

/**
 * `extraPieces` get ids after the model's own, with no merges: encoding never produces them,
 * only a model can (the scripted test model's whole-answer pieces).
 */
export function sentencePieceToTokenizerJson(model: SentencePieceModel, extraPieces: string[] = []): string {
  const vocab: Record<string, number> = {};
  model.pieces.forEach(({ piece }, id) => (vocab[piece] = id));
  extraPieces.forEach((piece, index) => (vocab[piece] = model.pieces.length + index));
  const isNormal = (piece: string) => vocab[piece] !== undefined && vocab[piece] < model.pieces.length && model.pieces[vocab[piece]].type === 'normal';
  const ordered = model.pieces.map((piece, id) => ({ ...piece, id })).filter(({ type }) => type === 'normal');
  ordered.sort((a, b) => b.score - a.score || a.id - b.id);
  const merges: string[] = [];
  for (const { piece } of ordered) {
    const characters = [...piece];
    for (let split = 1; split < characters.length; split++) {
      const [left, right] = [characters.slice(0, split).join(''), characters.slice(split).join('')];
      if (isNormal(left) && isNormal(right)) merges.push(`${left} ${right}`);
    }
  }
  return JSON.stringify({
    version: '1.0',
    added_tokens: [model.unkId, model.bosId, model.eosId].map((id) => special(id, model.pieces[id].piece)),
    normalizer: {
      type: 'Sequence',
      normalizers: [
        { type: 'Prepend', prepend: '\u2581' },
        { type: 'Replace', pattern: { String: ' ' }, content: '\u2581' },
      ],
    },
    pre_tokenizer: null,
    model: { type: 'BPE', unk_token: model.pieces[model.unkId].piece, byte_fallback: true, fuse_unk: true, vocab, merges },
  });
}
