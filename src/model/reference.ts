/**
 * A slow float64 forward pass on the CPU, for tests only: the independent check of the GPU
 * engine. It follows transformers' modeling_llama.py (LlamaForCausalLM) line by line, with the
 * other families' differences as switches beside it: modeling_qwen2.py's q/k/v biases,
 * modeling_qwen3.py's q_norm/k_norm, modeling_mistral.py's sliding window, Llama-3.1's rope
 * scaling, EXAONE's tensor names. It shares no code with the engine (not even the name table):
 * weights come in by hub name as float64 arrays.
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
  /** transformers' _compute_llama3_parameters (Llama-3.1, EXAONE 3.5), else plain RoPE. */
  ropeScaling?: { factor: number; lowFreqFactor: number; highFreqFactor: number; originalMaxPositions: number };
  /** Hub names: model.layers.N.self_attn... (default) or EXAONE's transformer.h.N.attn.attention... */
  names?: 'llama' | 'exaone';
  /** Qwen2: q_proj, k_proj and v_proj add their .bias. */
  qkvBias?: boolean;
  /** Qwen3: q_norm and k_norm (RMSNorm over head_dim) on each head before RoPE. */
  qkNorm?: boolean;
  /** Per layer: the sliding window (key j visible to query i when i - window < j <= i), 0 = none. */
  layerWindows?: number[];
}

/** The hub names of layer `l`'s tensors, spelled out here independently of the engine's table. */
function layerNames(config: ReferenceConfig, l: number) {
  if (config.names === 'exaone') {
    const p = `transformer.h.${l}.`;
    const a = `${p}attn.attention.`;
    return { attnNorm: `${p}ln_1.weight`, q: `${a}q_proj`, k: `${a}k_proj`, v: `${a}v_proj`, o: `${a}out_proj.weight`, qNorm: `${a}q_norm.weight`, kNorm: `${a}k_norm.weight`, ffnNorm: `${p}ln_2.weight`, gate: `${p}mlp.c_fc_0.weight`, up: `${p}mlp.c_fc_1.weight`, down: `${p}mlp.c_proj.weight` };
  }
  const p = `model.layers.${l}.`;
  const a = `${p}self_attn.`;
  return { attnNorm: `${p}input_layernorm.weight`, q: `${a}q_proj`, k: `${a}k_proj`, v: `${a}v_proj`, o: `${a}o_proj.weight`, qNorm: `${a}q_norm.weight`, kNorm: `${a}k_norm.weight`, ffnNorm: `${p}post_attention_layernorm.weight`, gate: `${p}mlp.gate_proj.weight`, up: `${p}mlp.up_proj.weight`, down: `${p}mlp.down_proj.weight` };
}

/** Names of the embedding and final norm. */
export function referenceTopNames(config: Pick<ReferenceConfig, 'names'>): { embed: string; norm: string } {
  return config.names === 'exaone' ? { embed: 'transformer.wte.weight', norm: 'transformer.ln_f.weight' } : { embed: 'model.embed_tokens.weight', norm: 'model.norm.weight' };
}

/** RoPE's inverse frequencies, with transformers' llama3 scaling when the config has it. */
export function inverseFrequenciesRef(headDim: number, theta: number, scaling?: ReferenceConfig['ropeScaling']): Float64Array {
  const inv = Float64Array.from({ length: headDim / 2 }, (_, i) => 1 / theta ** ((2 * i) / headDim));
  if (!scaling) return inv;
  const { factor, lowFreqFactor, highFreqFactor, originalMaxPositions } = scaling;
  return inv.map((freq) => {
    const wavelength = (2 * Math.PI) / freq;
    if (wavelength < originalMaxPositions / highFreqFactor) return freq; // high frequencies: unchanged
    if (wavelength > originalMaxPositions / lowFreqFactor) return freq / factor; // low: scaled
    const smooth = (originalMaxPositions / wavelength - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
    return (1 - smooth) * (freq / factor) + smooth * freq;
  });
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

/**
 * apply_rotary_pos_emb with rotate_half, in place on one head vector at `position`; `inverse`
 * overrides the plain frequencies 1 / theta^(2i / headDim) (rope scaling).
 */
export function ropeRef(head: Float64Array, offset: number, headDim: number, position: number, theta: number, inverse?: Float64Array): void {
  const half = headDim / 2;
  for (let i = 0; i < half; i++) {
    const angle = position * (inverse ? inverse[i] : 1 / theta ** ((2 * i) / headDim));
    const [c, s] = [Math.cos(angle), Math.sin(angle)];
    const a = head[offset + i];
    const b = head[offset + i + half];
    head[offset + i] = a * c - b * s;
    head[offset + i + half] = b * c + a * s;
  }
}

/**
 * Causal attention for queries at positions pos0 .. pos0 + T - 1 over keys 0 .. pos0 + T - 1
 * (with a sliding `window`, only keys j > i - window for query i).
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
  window = 0,
): Float64Array {
  const out = new Float64Array(t * numHeads * headDim);
  const group = numHeads / numKvHeads;
  const kvDim = numKvHeads * headDim;
  for (let i = 0; i < t; i++) {
    const last = pos0 + i;
    const first = window > 0 ? Math.max(0, last - window + 1) : 0;
    for (let h = 0; h < numHeads; h++) {
      const g = Math.floor(h / group);
      const scores = new Float64Array(last + 1);
      let max = -Infinity;
      for (let j = first; j <= last; j++) {
        let dot = 0;
        for (let c = 0; c < headDim; c++) dot += q[(i * numHeads + h) * headDim + c] * k[j * kvDim + g * headDim + c];
        scores[j] = dot / Math.sqrt(headDim);
        max = Math.max(max, scores[j]);
      }
      let sum = 0;
      for (let j = first; j <= last; j++) sum += scores[j] = Math.exp(scores[j] - max);
      for (let c = 0; c < headDim; c++) {
        let acc = 0;
        for (let j = first; j <= last; j++) acc += scores[j] * v[j * kvDim + g * headDim + c];
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
 * float64 logits (the lowest id on a tie) among ids below `vocabLimit` (a tokenizer smaller than
 * the padded vocabulary), ending early at the first of `stopIds` (included).
 */
export function greedyReference(config: ReferenceConfig, weight: ReferenceWeights, prompt: number[], steps: number, stopIds: number[] = [], vocabLimit = config.vocabSize): number[] {
  const ids = [...prompt];
  for (let step = 0; step < steps; step++) {
    const logits = forwardRef(config, weight, ids, 1);
    let best = 0;
    for (let i = 1; i < vocabLimit; i++) if (logits[i] > logits[best]) best = i;
    ids.push(best);
    if (stopIds.includes(best)) break;
  }
  return ids.slice(prompt.length);
}

/** y (T, N) += bias (N) on every row. */
function addBias(y: Float64Array, bias: Float64Array): Float64Array {
  return y.map((value, i) => value + bias[i % bias.length]);
}

/** Qwen3RMSNorm over each head_dim slice of every row, with one gain for all heads. */
function headNormRef(x: Float64Array, gain: Float64Array, headDim: number, eps: number): Float64Array {
  return rmsnormRef(x, gain, x.length / headDim, headDim, eps);
}

/** Logits (rows, V) of the last `rows` positions of `tokens`, from an empty cache. */
function forwardRef(config: ReferenceConfig, weight: ReferenceWeights, tokens: number[], rows: number): Float64Array {
  const { hiddenSize: d, intermediateSize: inter, numHeads, numKvHeads, headDim, vocabSize } = config;
  const t = tokens.length;
  const qDim = numHeads * headDim;
  const kvDim = numKvHeads * headDim;
  const top = referenceTopNames(config);
  const inverse = inverseFrequenciesRef(headDim, config.ropeTheta, config.ropeScaling);

  const embed = weight(top.embed);
  let x = new Float64Array(t * d);
  tokens.forEach((id, i) => x.set(embed.subarray(id * d, (id + 1) * d), i * d));

  for (let l = 0; l < config.numLayers; l++) {
    const n = layerNames(config, l);
    // Self-attention block.
    const h = rmsnormRef(x, weight(n.attnNorm), t, d, config.rmsNormEps);
    let q = linearRef(h, weight(`${n.q}.weight`), t, d, qDim);
    let k = linearRef(h, weight(`${n.k}.weight`), t, d, kvDim);
    let v = linearRef(h, weight(`${n.v}.weight`), t, d, kvDim);
    if (config.qkvBias) {
      q = addBias(q, weight(`${n.q}.bias`));
      k = addBias(k, weight(`${n.k}.bias`));
      v = addBias(v, weight(`${n.v}.bias`));
    }
    if (config.qkNorm) {
      q = headNormRef(q, weight(n.qNorm), headDim, config.rmsNormEps);
      k = headNormRef(k, weight(n.kNorm), headDim, config.rmsNormEps);
    }
    for (let i = 0; i < t; i++) {
      for (let hh = 0; hh < numHeads; hh++) ropeRef(q, (i * numHeads + hh) * headDim, headDim, i, config.ropeTheta, inverse);
      for (let hh = 0; hh < numKvHeads; hh++) ropeRef(k, (i * numKvHeads + hh) * headDim, headDim, i, config.ropeTheta, inverse);
    }
    const attn = attentionRef(q, k, v, t, 0, numHeads, numKvHeads, headDim, config.layerWindows?.[l] ?? 0);
    const o = linearRef(attn, weight(n.o), t, qDim, d);
    x = x.map((value, i) => value + o[i]);
    // MLP block.
    const h2 = rmsnormRef(x, weight(n.ffnNorm), t, d, config.rmsNormEps);
    const gate = linearRef(h2, weight(n.gate), t, d, inter);
    const up = linearRef(h2, weight(n.up), t, d, inter);
    const act = gate.map((g, i) => siluRef(g) * up[i]);
    const down = linearRef(act, weight(n.down), t, inter, d);
    x = x.map((value, i) => value + down[i]);
  }

  const final = rmsnormRef(x.subarray((t - rows) * d), weight(top.norm), rows, d, config.rmsNormEps);
  const head = config.tieWordEmbeddings ? embed : weight('lm_head.weight');
  return linearRef(final, head, rows, d, vocabSize);
}
