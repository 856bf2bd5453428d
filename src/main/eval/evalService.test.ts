/**
 * EvalService without IPFS: a checkpoint exported on the fly (the engine's checkpoint format), a model
 * package folder, and a private evaluation set held on this machine and named by its SHA-256.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { configFromPreset } from '../../shared/engine/config.ts';
import { charTokenizerFromText } from '../../shared/tokenizers/tokenizer.ts';
import { saveCheckpoint } from '../engine/checkpoint.ts';
import { gptParamLayout, initParams } from '../engine/gpt.ts';
import type { IpfsService } from '../ipfs/ipfsService.ts';
import { EvalFailure, EvalService } from './evalService.ts';
import { sha256Hex } from './modelPackage.ts';
import { bundledShakespeare, TINY_GPT } from './testing/models.ts';

const dir = mkdtempSync(join(tmpdir(), 'xai-evalsvc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const noIpfs = (): IpfsService => {
  throw new Error('IPFS is not used here');
};
const service = new EvalService({ ipfs: noIpfs, heldDir: join(dir, 'held'), tmpDir: join(dir, 'tmp') });
const text = bundledShakespeare().slice(0, 8_000);
const tokenizer = charTokenizerFromText(text);
const model = { ...TINY_GPT, vocabSize: tokenizer.vocabSize };

function checkpoint(): string {
  const layout = gptParamLayout(model);
  const path = join(dir, 'ckpt.safetensors');
  const zeros = new Float32Array(layout.total);
  saveCheckpoint(
    path,
    {
      step: 7,
      params: initParams(layout, 3),
      m: zeros,
      v: zeros,
      rngState: '',
      bestValLoss: null,
      trainLoss: 4.1,
      valLoss: 4.2,
      tokensSeen: 700,
      elapsedMs: 1,
    },
    {
      config: configFromPreset('cpu-tiny', { model: { ...TINY_GPT }, train: { maxIters: 7 } }),
      model,
      dataset: {
        kind: 'dataset',
        path: '/somewhere/local',
        name: 'x',
        vocabSize: model.vocabSize,
        dtype: 'uint16',
        trainTokens: 1,
        valTokens: 1,
        fingerprint: '',
        tokenizer: null,
      } as never,
      tokenizer: tokenizer.toFile(),
    },
  );
  return path;
}

describe('EvalService', () => {
  it('evaluates a checkpoint and its exported package identically, on a held private set', async () => {
    const textFile = join(dir, 'private.txt');
    writeFileSync(textFile, text);
    const held = await service.hold(textFile);
    expect(held).toMatchObject({ sha256: sha256Hex(text), ref: `sha256:${sha256Hex(text)}` });
    const ckpt = checkpoint();
    const a = await service.evaluate({ model: { checkpoint: ckpt }, text: { sha256: held.sha256 } });
    const pkgDir = await service.packageCheckpoint(ckpt, {}, join(dir, 'pkg'));
    const b = await service.evaluate({ model: { dir: pkgDir }, text: { file: textFile } });
    expect(a.report.result).toStrictEqual(b.report.result);
    expect(a.report.text).toEqual({ cid: null, sha256: held.sha256, bytes: Buffer.byteLength(text) });
    expect(a.pkg.card.training).toMatchObject({ iterations: 7, tokens: 700 });
    // The exported model publishes no local path.
    expect(new TextDecoder().decode(a.pkg.onnx)).not.toContain('/somewhere/local');
    // Two exports of one checkpoint are byte-identical (same model CID).
    const again = await service.packageCheckpoint(ckpt, {}, join(dir, 'pkg2'));
    expect(sha256Hex((await service.loadPackage({ dir: again })).pkg.onnx)).toBe(a.pkg.card.onnx.sha256);
    expect(EvalService.textSourceOf(held.ref)).toEqual({ sha256: held.sha256 });
    expect(EvalService.textSourceOf('ipfs://bafyabc')).toEqual({ cid: 'bafyabc' });
  });

  it('gives the same numbers in a worker thread as in this thread, and can be cancelled', async () => {
    const textFile = join(dir, 'text-worker.txt');
    writeFileSync(textFile, text);
    const pkgDir = await service.packageCheckpoint(checkpoint(), {}, join(dir, 'pkg-worker'));
    const inWorker = new EvalService({
      ipfs: noIpfs,
      heldDir: join(dir, 'held'),
      tmpDir: join(dir, 'tmp'),
      worker: true,
    });
    const inThread = new EvalService({
      ipfs: noIpfs,
      heldDir: join(dir, 'held'),
      tmpDir: join(dir, 'tmp'),
      worker: false,
    });
    const progress: number[] = [];
    const a = await inWorker.evaluate({
      model: { dir: pkgDir },
      text: { file: textFile },
      onProgress: (_s, done) => progress.push(done),
    });
    const b = await inThread.evaluate({ model: { dir: pkgDir }, text: { file: textFile } });
    expect(a.report.result).toStrictEqual(b.report.result);
    expect(Object.is(a.report.result.totalNats, b.report.result.totalNats)).toBe(true);
    expect(progress.at(-1)).toBe(a.report.result.windows);
    const abort = new AbortController();
    const stopped = inWorker.evaluate({
      model: { dir: pkgDir },
      text: { file: textFile },
      signal: abort.signal,
      onProgress: (s) => s === 'evaluating' && abort.abort(),
    });
    await expect(stopped).rejects.toThrow(/cancelled/);
  });

  it('explains what is missing or wrong', async () => {
    const missing = await service.loadText({ sha256: 'cd'.repeat(32) }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(EvalFailure);
    expect((missing as EvalFailure).reason).toBe('missing-content');
    expect((missing as EvalFailure).hint).toMatch(/eval hold/);
    const binary = join(dir, 'binary.txt');
    writeFileSync(binary, Uint8Array.of(0xff, 0xfe, 0x00, 0xc3));
    await expect(service.loadText({ file: binary })).rejects.toThrow(/not valid UTF-8/);
    await expect(service.loadPackage({ dir })).rejects.toThrow(/not a model package/);
  });
});
