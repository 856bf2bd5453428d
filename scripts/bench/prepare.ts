/**
 * npm run bench:prepare — dataset preparation speed.
 *
 * 1. tiny-shakespeare (../shared/data/tinyshakespeare.txt) prepared end to end with each tokenizer
 *    (char, gpt2, bpe:4096): import, clean, fit/load the tokenizer, encode, write, fsync, rename.
 * 2. BPE with a 4,096-token vocabulary trained on ~10 MB: nine perturbed copies of tiny-shakespeare
 *    (per copy: paragraphs shuffled, ~30% of the words altered), so the word statistics are richer
 *    than one text repeated; timed alone (word counts → merges) and as a whole prepare.
 *
 * The last line printed is one JSON object (seconds).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { prepareDataset, type PrepareOutcome } from '../../src/main/datasets/prepare.ts';
import { Prng } from '../../src/shared/datasets/prng.ts';
import { preparationSettingsSchema } from '../../src/shared/datasets/options.ts';
import { BpeTrainer } from '../../src/shared/tokenizers/bpeTrainer.ts';
import { WordCounter } from '../../src/shared/tokenizers/tokenizer.ts';

const SHAKESPEARE = resolve(import.meta.dirname, '../../../shared/data/tinyshakespeare.txt');

async function prepare(
  input: string,
  dest: string,
  tokenizer: string,
): Promise<{ seconds: number; outcome: PrepareOutcome }> {
  const t0 = performance.now();
  const outcome = await prepareDataset(
    { ...preparationSettingsSchema.parse({ tokenizer }), inputs: [input], name: 'bench' },
    dest,
    {
      signal: new AbortController().signal,
      progress: () => undefined,
      generator: { name: 'XAI-Link', version: 'bench' },
    },
  );
  return { seconds: (performance.now() - t0) / 1000, outcome };
}

/** Copy k of the text: paragraphs shuffled, about 30% of the words altered (seeded by k). */
function perturb(text: string, k: number): string {
  const prng = new Prng(1000 + k);
  const paragraphs = text.split('\n\n');
  for (let i = paragraphs.length - 1; i > 0; i--) {
    const j = prng.below(i + 1);
    [paragraphs[i], paragraphs[j]] = [paragraphs[j]!, paragraphs[i]!];
  }
  return paragraphs.join('\n\n').replace(/[A-Za-z]{3,}/g, (w) => {
    const r = prng.below(100);
    if (r >= 30) return w;
    const i = 1 + prng.below(w.length - 2);
    switch (r % 5) {
      case 0:
        return w.slice(0, i) + w[i + 1] + w[i] + w.slice(i + 2); // swap two letters
      case 1:
        return w.slice(0, i) + w[i] + w.slice(i); // double a letter
      case 2:
        return w + ['eth', 'ly', 'ness', 'ing', 'ed'][k % 5];
      case 3:
        return w.toUpperCase();
      default:
        return w.slice(0, i) + w.slice(i + 1); // drop a letter
    }
  });
}

const dir = await mkdtemp(join(tmpdir(), 'xai-bench-prepare-'));
try {
  const results: Record<string, number> = {};
  const rows: string[] = [];
  for (const tokenizer of ['char', 'gpt2', 'bpe:4096']) {
    const { seconds, outcome } = await prepare(SHAKESPEARE, join(dir, tokenizer.replace(':', '')), tokenizer);
    const m = outcome.manifest;
    const key = `${tokenizer.replace(':', '')}_s`;
    results[key] = round(seconds);
    rows.push(
      `tiny-shakespeare ${tokenizer.padEnd(8)} ${seconds.toFixed(3)} s  vocab ${m.vocabSize}  train ${m.splits.train.tokens} / val ${m.splits.val.tokens} tokens` +
        `  (import ${outcome.timings.importSeconds.toFixed(3)}, tokenizer ${outcome.timings.tokenizerSeconds.toFixed(3)}, encode ${outcome.timings.encodeSeconds.toFixed(3)})`,
    );
  }

  const text = await readFile(SHAKESPEARE, 'utf8');
  const big = Array.from({ length: 9 }, (_, k) => perturb(text, k)).join('\n\n');
  const bigPath = join(dir, 'shakespeare-10mb.txt');
  await writeFile(bigPath, big);
  const mb = Buffer.byteLength(big) / 1e6;

  const t0 = performance.now();
  const wc = new WordCounter();
  wc.addText(big);
  const t1 = performance.now();
  const trainer = new BpeTrainer(wc.counts, 4096 - 257);
  trainer.run();
  const t2 = performance.now();
  if (trainer.merges.length !== 4096 - 257) throw new Error(`only ${trainer.merges.length} merges`);
  results.bpe4k_10mb_count_s = round((t1 - t0) / 1000);
  results.bpe4k_10mb_train_s = round((t2 - t1) / 1000);
  const whole = await prepare(bigPath, join(dir, 'big-bpe4096'), 'bpe:4096');
  results.bpe4k_10mb_prepare_s = round(whole.seconds);
  results.input_10mb_mb = round(mb);
  rows.push(
    `BPE 4k on ${mb.toFixed(1)} MB (${wc.counts.size} distinct words): count ${((t1 - t0) / 1000).toFixed(3)} s, train ${((t2 - t1) / 1000).toFixed(3)} s; ` +
      `whole prepare ${whole.seconds.toFixed(3)} s (${whole.outcome.manifest.splits.train.tokens + whole.outcome.manifest.splits.val.tokens} tokens)`,
  );
  for (const r of rows) console.log(r);
  console.log(`node ${process.version}, ${cpus()[0]?.model ?? 'cpu'} ×${cpus().length}`);
  console.log(JSON.stringify(results));
} finally {
  await rm(dir, { recursive: true, force: true });
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
