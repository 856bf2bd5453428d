import { describe, expect, it } from 'vitest';
import { bytesPerToken, datasetManifestSchema, dtypeForVocab, preparedManifestSchema } from './manifest.ts';

const H = 'a'.repeat(64);
const minimal = {
  formatVersion: 1,
  name: 'hand-made',
  createdAt: '2025-01-01T00:00:00Z',
  tokenizer: { kind: 'char', file: 'tokenizer.json', sha256: H },
  vocabSize: 65,
  dtype: 'uint16',
  splits: {
    train: { file: 'train.bin', documents: 1, characters: 9, bytes: 18, tokens: 9, sha256: H },
    val: { file: 'val.bin', documents: 1, characters: 1, bytes: 2, tokens: 1, sha256: H },
  },
};

describe('manifest schema', () => {
  it('reads a hand-made manifest with only the core fields (readers stay compatible)', () => {
    expect(datasetManifestSchema.parse({ ...minimal, futureField: 1 })).toMatchObject({
      name: 'hand-made',
      futureField: 1,
    });
  });

  it('a prepared manifest must have every extended field', () => {
    const r = preparedManifestSchema.safeParse(minimal);
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.path[0])).toEqual(
      expect.arrayContaining(['files', 'sources', 'cleaning', 'options', 'split']),
    );
  });

  it('refuses what readers could trip on', () => {
    expect(datasetManifestSchema.safeParse({ ...minimal, formatVersion: 2 }).success).toBe(false);
    expect(datasetManifestSchema.safeParse({ ...minimal, dtype: 'int32' }).success).toBe(false);
    const escape = {
      ...minimal,
      splits: { ...minimal.splits, train: { ...minimal.splits.train, file: '../x.bin' } },
    };
    expect(datasetManifestSchema.safeParse(escape).success).toBe(false);
  });

  it('picks uint16 up to 65,536 tokens, uint32 above', () => {
    expect(dtypeForVocab(65)).toBe('uint16');
    expect(dtypeForVocab(50257)).toBe('uint16');
    expect(dtypeForVocab(65536)).toBe('uint16');
    expect(dtypeForVocab(65537)).toBe('uint32');
    expect(bytesPerToken('uint32')).toBe(4);
  });
});
