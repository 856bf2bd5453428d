import type { ResolvedModelConfig } from '../../shared/engine/config.ts';
import type { Dim, Graph, Tensor } from './graph/graph.ts';
import { causalSelfAttention, type AttentionDropout } from './graph/attention.ts';
import { checkpoint } from './graph/autodiff.ts';
import * as op from './graph/ops.ts';
import { deriveSeed } from './rng.ts';
import { TorchGenerator } from './torchRng.ts';

/**
 * GPT exactly as nanoGPT's model.py defines it: token + learned position embeddings, pre-LayerNorm
 * blocks of causal self-attention and a 4× GELU MLP, a final LayerNorm, and an lm_head tied to the
 * token embedding. Parameter names and layouts are nanoGPT's state_dict (PyTorch Linear weights are
 * [out, in]), so a checkpoint loads into nanoGPT by name.
 */

export interface ParamSpec {
  /** nanoGPT state_dict name. */
  name: string;
  shape: number[];
  size: number;
  /** Offset (in floats) in the flat parameter vector. */
  offset: number;
  init: { kind: 'normal'; std: number } | { kind: 'zeros' } | { kind: 'ones' };
  /** AdamW weight decay applies (nanoGPT: every parameter with ≥ 2 dimensions). */
  decay: boolean;
}

export interface ParamLayout {
  specs: ParamSpec[];
  byName: Map<string, ParamSpec>;
  /** Total floats. */
  total: number;
}

/** The parameters in nanoGPT's named_parameters() order, laid out in one flat vector. */
export function gptParamLayout(cfg: ResolvedModelConfig): ParamLayout {
  const c = cfg.nEmbd;
  const std = 0.02;
  // Residual projections: normal(0, 0.02/√(2·n_layer)) (GPT-2 paper, nanoGPT's c_proj special case).
  const projStd = 0.02 / Math.sqrt(2 * cfg.nLayer);
  const specs: ParamSpec[] = [];
  let offset = 0;
  const add = (name: string, shape: number[], init: ParamSpec['init']) => {
    const size = shape.reduce((a, b) => a * b, 1);
    specs.push({ name, shape, size, offset, init, decay: shape.length >= 2 });
    offset += size;
  };
  const normal = (s: number) => ({ kind: 'normal', std: s }) as const;
  const ln = (prefix: string) => {
    add(`${prefix}.weight`, [c], { kind: 'ones' });
    if (cfg.bias) add(`${prefix}.bias`, [c], { kind: 'zeros' });
  };
  const lin = (prefix: string, out: number, inp: number, s: number) => {
    add(`${prefix}.weight`, [out, inp], normal(s));
    if (cfg.bias) add(`${prefix}.bias`, [out], { kind: 'zeros' });
  };
  add('transformer.wte.weight', [cfg.vocabSize, c], normal(std));
  add('transformer.wpe.weight', [cfg.blockSize, c], normal(std));
  for (let i = 0; i < cfg.nLayer; i++) {
    const h = `transformer.h.${i}`;
    ln(`${h}.ln_1`);
    lin(`${h}.attn.c_attn`, 3 * c, c, std);
    lin(`${h}.attn.c_proj`, c, c, projStd);
    ln(`${h}.ln_2`);
    lin(`${h}.mlp.c_fc`, 4 * c, c, std);
    lin(`${h}.mlp.c_proj`, c, 4 * c, projStd);
  }
  ln('transformer.ln_f');
  return { specs, byName: new Map(specs.map((s) => [s.name, s])), total: offset };
}

/**
 * nanoGPT's initialisation, draw for draw as PyTorch makes it after `torch.manual_seed(seed)` (pass a
 * seed, or the run's generator to continue its stream), so the same seed gives the same weights as
 * nanoGPT. GPT.__init__ consumes the generator in this order:
 *
 * 1. module construction: wte and wpe (nn.Embedding: normal_(0, 1)), then per block c_attn, attn.c_proj,
 *    c_fc, mlp.c_proj (nn.Linear: kaiming_uniform_(a=√5) on the weight, then uniform_ on the bias when
 *    bias=True), then lm_head (nn.Linear, no bias); LayerNorms draw nothing;
 * 2. `self.apply(_init_weights)`, children before parents in registration order: wte, wpe, each block's
 *    c_attn, attn.c_proj, c_fc, mlp.c_proj (normal_(0, 0.02), biases zeroed), then lm_head: wte and
 *    lm_head share one tensor, so it is drawn twice and lm_head's draw is the one that stays;
 * 3. normal_(0, 0.02/√(2·n_layer)) on every `c_proj.weight` in named_parameters order.
 *
 * Draws whose values are overwritten later are skipped (the generator advances by what they consume).
 */
export function initParams(layout: ParamLayout, seed: number | TorchGenerator): Float32Array {
  const gen = typeof seed === 'number' ? new TorchGenerator(seed) : seed;
  const flat = new Float32Array(layout.total);
  const spec = (name: string) => {
    const s = layout.byName.get(name);
    if (!s) throw new Error(`initParams: the layout has no ${name}`);
    return s;
  };
  const view = (name: string) => {
    const s = spec(name);
    return flat.subarray(s.offset, s.offset + s.size);
  };
  const wte = spec('transformer.wte.weight');
  const wpe = spec('transformer.wpe.weight');
  const bias = layout.byName.has('transformer.ln_f.bias');
  let nLayer = 0;
  while (layout.byName.has(`transformer.h.${nLayer}.ln_1.weight`)) nLayer++;
  const linears = (l: number) =>
    ['attn.c_attn', 'attn.c_proj', 'mlp.c_fc', 'mlp.c_proj'].map((m) => `transformer.h.${l}.${m}`);
  // 1. construction: nn.Embedding normal_(0, 1), nn.Linear kaiming_uniform_ (+ bias uniform_)
  gen.skipNormal(wte.size);
  gen.skipNormal(wpe.size);
  for (let l = 0; l < nLayer; l++) {
    for (const m of linears(l)) {
      gen.skipUniform(spec(`${m}.weight`).size);
      if (bias) gen.skipUniform(spec(`${m}.bias`).size);
    }
  }
  gen.skipUniform(wte.size); // lm_head.weight, [vocab, n_embd] like wte
  // 2. _init_weights, post-order
  gen.skipNormal(wte.size); // redrawn by lm_head below
  gen.normal_(view(wpe.name), 0, 0.02);
  for (let l = 0; l < nLayer; l++) {
    for (const m of linears(l)) {
      if (m.endsWith('c_proj'))
        gen.skipNormal(spec(`${m}.weight`).size); // redrawn in 3.
      else gen.normal_(view(`${m}.weight`), 0, 0.02);
    }
  }
  gen.normal_(view(wte.name), 0, 0.02); // lm_head, tied to wte
  // 3. residual projections (GPT-2 paper), in named_parameters order
  const projStd = 0.02 / Math.sqrt(2 * nLayer);
  for (let l = 0; l < nLayer; l++) {
    gen.normal_(view(`transformer.h.${l}.attn.c_proj.weight`), 0, projStd);
    gen.normal_(view(`transformer.h.${l}.mlp.c_proj.weight`), 0, projStd);
  }
  for (const s of layout.specs) if (s.init.kind === 'ones') view(s.name).fill(1);
  return flat;
}

/**
 * Per-parameter tensors cut from a flat vector of the layout's tensors with Split nodes (views for the forward
 * pass); `layout` may be a run of a layout's tensors, cut from that run's piece (flatChunks.ts).
 */
export function paramViews(
  g: Graph,
  flat: Tensor,
  layout: Pick<ParamLayout, 'specs'>,
  requiresGrad: boolean,
): Record<string, Tensor> {
  const parts = g.scope('params', () =>
    op.split(
      g,
      flat,
      0,
      layout.specs.map((s) => s.size),
    ),
  );
  const out: Record<string, Tensor> = {};
  layout.specs.forEach((s, i) => {
    const v = g.scope('params', () => op.reshape(g, parts[i]!, s.shape));
    v.requiresGrad = requiresGrad;
    out[s.name] = v;
  });
  return out;
}

export interface ForwardOptions {
  /** Apply dropout (training). */
  train: boolean;
  /** Seed of the dropout mask streams (one per dropout site, derived from it). */
  dropoutSeed?: number;
  /**
   * Recompute each transformer block in the backward pass instead of keeping its activations
   * (activation checkpointing): much less memory for one extra forward pass.
   */
  checkpointBlocks?: boolean;
}

/** A [T, T] additive causal mask: 0 on and below the diagonal, −∞ above (a token sees only its past). */
export function causalMask(size: number): Float32Array {
  const m = new Float32Array(size * size);
  for (let i = 0; i < size; i++) for (let j = i + 1; j < size; j++) m[i * size + j] = -Infinity;
  return m;
}

/**
 * The forward pass: ids [B, T] → logits [B·T, V]. B and T may be symbolic (inference) or fixed
 * (training, where T = blockSize).
 */
export function gptForward(
  g: Graph,
  cfg: ResolvedModelConfig,
  p: Record<string, Tensor>,
  idx: Tensor,
  opts: ForwardOptions,
): Tensor {
  return lmHead(g, p, gptHidden(g, cfg, p, idx, opts));
}

/** The lm_head: logits [N, V] = x · wteᵀ (tied to the token embedding), x the final LayerNorm's output [N, C]. */
export function lmHead(g: Graph, p: Record<string, Tensor>, x: Tensor): Tensor {
  const wte = p['transformer.wte.weight'];
  if (!wte) throw new Error('lmHead: missing parameter transformer.wte.weight');
  return g.scope('head', () => op.linear(g, x, wte, null));
}

/**
 * The forward pass up to the lm_head: ids [B, T] → the final LayerNorm's output [B·T, C] (losses over a large
 * vocabulary take the head a slice of rows at a time: headLoss.ts).
 */
export function gptHidden(
  g: Graph,
  cfg: ResolvedModelConfig,
  p: Record<string, Tensor>,
  idx: Tensor,
  opts: ForwardOptions,
): Tensor {
  const [B, T] = idx.shape as [Dim, Dim];
  if (idx.rank !== 2) throw new Error(`gptForward: ids must be [batch, seq], got ${idx}`);
  if (typeof T === 'number' && T > cfg.blockSize) {
    throw new Error(`gptForward: sequence length ${T} exceeds blockSize ${cfg.blockSize}`);
  }
  const C = cfg.nEmbd;
  const H = cfg.nHead;
  const hs = C / H;
  const dropP = opts.train ? cfg.dropout : 0;
  let site = 0;
  const w = (name: string) => {
    const t = p[name];
    if (!t) throw new Error(`gptForward: missing parameter ${name}`);
    return t;
  };
  const bias = (name: string) => (cfg.bias ? w(name) : null);

  /**
   * Dropout sites in order: `next()` takes the next site (its seed, and how it applies), `drop(x)` applies it.
   * In a recomputed block the second pass replays the first pass's masks (ONNX Runtime's Dropout would draw
   * new ones); `sites` holds them.
   */
  const dropper = (sites: { seed: number; mask: Tensor | null }[] | null, replay: boolean) => {
    let k = 0;
    const next = (): AttentionDropout | null => {
      if (dropP <= 0) return null;
      if (replay) {
        const s = sites![k++]!;
        return {
          p: dropP,
          seed: s.seed,
          apply: (x) => (s.mask ? op.applyDropoutMask(g, x, s.mask, dropP) : x),
        };
      }
      const seed = deriveSeed(opts.dropoutSeed ?? 0, 'dropout', site++);
      return {
        p: dropP,
        seed,
        apply: (x) => {
          const { y, mask } = op.dropoutWithMask(g, x, dropP, seed);
          sites?.push({ seed, mask });
          return y;
        },
      };
    };
    return { next, drop: (x: Tensor) => next()?.apply(x) ?? x };
  };

  const maskFull = g.constant(
    causalMask(cfg.blockSize),
    [cfg.blockSize, cfg.blockSize],
    'float32',
    'causal_mask',
  );
  const mask = T === cfg.blockSize ? maskFull : op.slice(g, op.slice(g, maskFull, 0, 0, T), 1, 0, T);

  // x = drop(wte[idx] + wpe[0..T))
  let x = g.scope('embed', () => {
    const tok = op.gather(g, w('transformer.wte.weight'), idx); // [B, T, C]
    const wpe = w('transformer.wpe.weight');
    const pos = T === cfg.blockSize ? wpe : op.slice(g, wpe, 0, 0, T); // [T, C]
    return op.reshape(g, dropper(null, false).drop(op.add(g, tok, pos)), [-1, C]); // [N, C], N = B·T rows
  });

  for (let l = 0; l < cfg.nLayer; l++) {
    const h = `transformer.h.${l}`;
    const names = [
      `${h}.ln_1.weight`,
      `${h}.attn.c_attn.weight`,
      `${h}.attn.c_proj.weight`,
      `${h}.ln_2.weight`,
      `${h}.mlp.c_fc.weight`,
      `${h}.mlp.c_proj.weight`,
    ];
    if (cfg.bias) names.push(...names.map((n) => n.replace(/weight$/, 'bias')));
    const sites: { seed: number; mask: Tensor | null }[] = [];
    const block = (xs: readonly Tensor[], replay: boolean) => {
      const { next, drop } = dropper(sites, replay);
      const xin = xs[0]!;
      // x = x + attn(ln_1(x))
      const a = g.scope('attn', () => {
        const hIn = op.layerNorm(g, xin, w(`${h}.ln_1.weight`), bias(`${h}.ln_1.bias`));
        const qkv = op.linear(g, hIn, w(`${h}.attn.c_attn.weight`), bias(`${h}.attn.c_attn.bias`)); // [N, 3C]
        // per head: dropout(softmax(q·kᵀ/√hs + causal mask))·v, the heads side by side again [N, C]
        const merged = causalSelfAttention(g, qkv, {
          batch: B,
          seq: T,
          heads: H,
          scale: 1 / Math.sqrt(hs),
          mask,
          dropout: next(),
        });
        return drop(op.linear(g, merged, w(`${h}.attn.c_proj.weight`), bias(`${h}.attn.c_proj.bias`)));
      });
      const x1 = op.add(g, xin, a);
      // x = x + mlp(ln_2(x)),  mlp = c_proj(gelu(c_fc(·)))
      const m = g.scope('mlp', () => {
        const hIn = op.layerNorm(g, x1, w(`${h}.ln_2.weight`), bias(`${h}.ln_2.bias`));
        const fc = op.gelu(g, op.linear(g, hIn, w(`${h}.mlp.c_fc.weight`), bias(`${h}.mlp.c_fc.bias`)));
        return drop(op.linear(g, fc, w(`${h}.mlp.c_proj.weight`), bias(`${h}.mlp.c_proj.bias`)));
      });
      return op.add(g, x1, m);
    };
    x = opts.checkpointBlocks
      ? checkpoint(g, `h${l}`, [x], names.map(w), block)
      : g.scope(`h${l}`, () => block([x], false));
  }
  return g.scope('head', () =>
    op.layerNorm(g, x, w('transformer.ln_f.weight'), bias('transformer.ln_f.bias')),
  );
}
