/**
 * A slow float64 LLaMA forward pass on the CPU, for tests only: the independent check of the
 * GPU engine. It follows transformers' modeling_llama.py (LlamaForCausalLM) line by line and
 * shares no code with the engine: weights come in by hub name as float64 arrays.
 *
 * Shapes: x (T, D) row-major; a weight named like `*.q_proj.weight` is (out, in) as in PyTorch.
 */

export interface ReferenceConfig {
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  rmsNormEps: number;
  ropeTheta: number;
  vocabSize: number;
  tieWordEmbeddings: boolean;
}

export type ReferenceWeights = (name: string) => Float64Array;

/** y (T, N) = x (T, K) w^T, w (N, K). */
export function linearRef(x: Float64Array, w: Float64Array, t: number, k: number, n: number): Float64Array {
  const y = new Float64Array(t * n);
  for (let i = 0; i < t; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let c = 0; c < k; c++) sum += x[i * k + c] * w[j * k + c];
      y[i * n + j] = sum;
    }
  }
  return y;
}

export function rmsnormRef(x: Float64Array, gain: Float64Array, t: number, d: number, eps: number): Float64Array {
  const y = new Float64Array(t * d);
  for (let i = 0; i < t; i++) {
    let sum = 0;
    for (let c = 0; c < d; c++) sum += x[i * d + c] ** 2;
    const inv = 1 / Math.sqrt(sum / d + eps);
    for (let c = 0; c < d; c++) y[i * d + c] = x[i * d + c] * inv * gain[c];
  }
  return y;
}

/** apply_rotary_pos_emb with rotate_half, in place on one head vector at `position`. */
export function ropeRef(head: Float64Array, offset: number, headDim: number, position: number, theta: number): void {
  const half = headDim / 2;
  for (let i = 0; i < half; i++) {
    const angle = position / theta ** ((2 * i) / headDim);
    const [c, s] = [Math.cos(angle), Math.sin(angle)];
    const a = head[offset + i];
    const b = head[offset + i + half];
    head[offset + i] = a * c - b * s;
    head[offset + i + half] = b * c + a * s;
  }
}

/**
 * Causal attention for queries at positions pos0 .. pos0 + T - 1 over keys 0 .. pos0 + T - 1.
 * q (T, H * hd); k, v (S, Hkv * hd) with S >= pos0 + T; returns (T, H * hd).
 */
export function attentionRef(
  q: Float64Array,
  k: Float64Array,
  v: Float64Array,
  t: number,
  pos0: number,
  numHeads: number,
  numKvHeads: number,
  headDim: number,
): Float64Array {
  const out = new Float64Array(t * numHeads * headDim);
  const group = numHeads / numKvHeads;
  const kvDim = numKvHeads * headDim;
  for (let i = 0; i < t; i++) {
    const last = pos0 + i;
    for (let h = 0; h < numHeads; h++) {
      const g = Math.floor(h / group);
      const scores = new Float64Array(last + 1);
      let max = -Infinity;
      for (let j = 0; j <= last; j++) {
        let dot = 0;
        for (let c = 0; c < headDim; c++) dot += q[(i * numHeads + h) * headDim + c] * k[j * kvDim + g * headDim + c];
        scores[j] = dot / Math.sqrt(headDim);
        max = Math.max(max, scores[j]);
      }
      let sum = 0;
      for (let j = 0; j <= last; j++) sum += scores[j] = Math.exp(scores[j] - max);
      for (let c = 0; c < headDim; c++) {
        let acc = 0;
        for (let j = 0; j <= last; j++) acc += scores[j] * v[j * kvDim + g * headDim + c];
        out[(i * numHeads + h) * headDim + c] = acc / sum;
      }
    }
  }
  return out;
}

export function siluRef(x: number): number {
  return x / (1 + Math.exp(-x));
}

/** Logits (T, V) of every position of `tokens`, from an empty cache. */
export function referenceLogits(config: ReferenceConfig, weight: ReferenceWeights, tokens: number[]): Float64Array {
  return forwardRef(config, weight, tokens, tokens.length);
}

/**
 * Greedy generation after `prompt`: up to `steps` ids, each the argmax of the last position's
 * float64 logits (the lowest id on a tie), ending early at the first of `stopIds` (included).
 */
export function greedyReference(config: ReferenceConfig, weight: ReferenceWeights, prompt: number[], steps: number, stopIds: number[] = []): number[] {
  const ids = [...prompt];
  for (let step = 0; step < steps; step++) {
    const logits = forwardRef(config, weight, ids, 1);
    let best = 0;
    for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
    ids.push(best);
    if (stopIds.includes(best)) break;
  }
  return ids.slice(prompt.length);
}

/** Logits (rows, V) of the last `rows` positions of `tokens`, from an empty cache. */
function forwardRef(config: ReferenceConfig, weight: ReferenceWeights, tokens: number[], rows: number): Float64Array {
  const { hiddenSize: d, intermediateSize: inter, numHeads, numKvHeads, headDim, vocabSize } = config;
  const t = tokens.length;
  const qDim = numHeads * headDim;
  const kvDim = numKvHeads * headDim;

  const embed = weight('model.embed_tokens.weight');
  let x = new Float64Array(t * d);
  tokens.forEach((id, i) => x.set(embed.subarray(id * d, (id + 1) * d), i * d));

  for (let l = 0; l < config.numLayers; l++) {
    const p = `model.layers.${l}.`;
    // Self-attention block.
    const h = rmsnormRef(x, weight(`${p}input_layernorm.weight`), t, d, config.rmsNormEps);
    const q = linearRef(h, weight(`${p}self_attn.q_proj.weight`), t, d, qDim);
    const k = linearRef(h, weight(`${p}self_attn.k_proj.weight`), t, d, kvDim);
    const v = linearRef(h, weight(`${p}self_attn.v_proj.weight`), t, d, kvDim);
    for (let i = 0; i < t; i++) {
      for (let hh = 0; hh < numHeads; hh++) ropeRef(q, (i * numHeads + hh) * headDim, headDim, i, config.ropeTheta);
      for (let hh = 0; hh < numKvHeads; hh++) ropeRef(k, (i * numKvHeads + hh) * headDim, headDim, i, config.ropeTheta);
    }
    const attn = attentionRef(q, k, v, t, 0, numHeads, numKvHeads, headDim);
    const o = linearRef(attn, weight(`${p}self_attn.o_proj.weight`), t, qDim, d);
    x = x.map((value, i) => value + o[i]);
    // MLP block.
    const h2 = rmsnormRef(x, weight(`${p}post_attention_layernorm.weight`), t, d, config.rmsNormEps);
    const gate = linearRef(h2, weight(`${p}mlp.gate_proj.weight`), t, d, inter);
    const up = linearRef(h2, weight(`${p}mlp.up_proj.weight`), t, d, inter);
    const act = gate.map((g, i) => siluRef(g) * up[i]);
    const down = linearRef(act, weight(`${p}mlp.down_proj.weight`), t, inter, d);
    x = x.map((value, i) => value + down[i]);
  }

  const final = rmsnormRef(x.subarray((t - rows) * d), weight('model.norm.weight'), rows, d, config.rmsNormEps);
  const head = config.tieWordEmbeddings ? embed : weight('lm_head.weight');
  return linearRef(final, head, rows, d, vocabSize);
}
