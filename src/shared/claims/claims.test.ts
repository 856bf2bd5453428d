import { describe, expect, it } from 'vitest';
import { lossCurveSvg } from './lossCurveSvg.ts';
import { buildTokenMetadata, tokenMetadataSchema } from './metadata.ts';

describe('loss-curve image', () => {
  const points = Array.from({ length: 30 }, (_, i) => ({
    step: i * 10,
    train: 4 - Math.log1p(i) / 2,
    val: i % 5 === 0 ? 4.1 - Math.log1p(i) / 2 : null,
  }));

  it('is a self-contained SVG, byte-identical for the same input', () => {
    const a = lossCurveSvg({ title: 'Tiny GPT', subtitle: 'lineage 1', badge: '3.4567 bits/byte', points });
    expect(a).toBe(
      lossCurveSvg({ title: 'Tiny GPT', subtitle: 'lineage 1', badge: '3.4567 bits/byte', points }),
    );
    expect(a).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    expect(a.trimEnd().endsWith('</svg>')).toBe(true);
    expect(a.match(/<path d="M/g)).toHaveLength(2);
    expect(a).not.toMatch(/href|<script|<image|url\(/i);
  });

  it('escapes text and copes with degenerate curves', () => {
    const svg = lossCurveSvg({ title: '<script>alert("x")</script> & co', points: [] });
    expect(svg).not.toContain('<script>');
    expect(svg).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co');
    expect(lossCurveSvg({ title: 'one point', points: [{ step: 5, train: 2, val: 2 }] })).toContain(
      '<circle',
    );
  });
});

describe('token metadata', () => {
  it('has the ERC-721 fields and every attribute a buyer needs', () => {
    const m = buildTokenMetadata({
      name: 'Tiny GPT v2',
      imageCid: 'bafyimage',
      lineageId: 1,
      lineageName: 'Tiny Shakespeare',
      version: 2,
      parentTokenId: 1,
      metric: 'bits_per_byte',
      score: '3379292',
      value: 3.379292,
      parameters: 800_000,
      trainingTokens: 300_000,
      tokenizer: 'char:65',
      datasetCid: 'bafydataset',
      evaluationCid: 'bafyeval',
      evaluationTextCid: 'bafytext',
      pipelineCid: 'bafypipeline',
      modelCid: 'bafymodel',
      checkpointCid: 'bafyckpt',
      trainer: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
    });
    expect(tokenMetadataSchema.parse(m)).toEqual(m);
    expect(m.image).toBe('ipfs://bafyimage');
    expect(m.description).toContain('3.379292');
    const traits = Object.fromEntries(m.attributes.map((a) => [a.trait_type, a.value]));
    expect(traits).toMatchObject({
      lineage: 'Tiny Shakespeare',
      version: 2,
      'parent token': 1,
      metric: 'bits_per_byte',
      score: 3.379292,
      parameters: 800_000,
      'training tokens': 300_000,
      tokenizer: 'char:65',
      'dataset CID': 'bafydataset',
      'evaluation CID': 'bafyeval',
      'pipeline CID': 'bafypipeline',
      'ONNX model CID': 'bafymodel',
      'checkpoint CID': 'bafyckpt',
      trainer: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
    });
  });
});
