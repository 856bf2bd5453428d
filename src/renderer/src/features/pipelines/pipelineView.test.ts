import { describe, expect, it } from 'vitest';
import { invalidParams } from '../../../../shared/api/errors.ts';
import {
  PIPELINE_FORMAT,
  pipelineSchema,
  type PipelineInput,
  type PipelineRunResult,
  type StageReport,
} from '../../../../shared/pipelines/pipeline.ts';
import {
  claimablePipelineModel,
  formatStageSeconds,
  liveStages,
  pipelineIssues,
  stageOutcome,
  stageSettings,
  stopAfterChoices,
} from './pipelineView.ts';

const input: PipelineInput = {
  format: PIPELINE_FORMAT,
  version: 1,
  name: 'tiny',
  stages: {
    prepare: { inputs: ['/data/tiny.txt'] },
    train: { model: { nLayer: 1, nEmbd: 32 }, train: { batchSize: 4 }, iters: 1200 },
  },
};
const pipeline = pipelineSchema.parse(input);
const withClaim = pipelineSchema.parse({
  ...input,
  stages: { ...input.stages, claim: { lineageId: 3, trainer: { devAccount: 1 } } },
});

const settingsOf = (p = pipeline) =>
  Object.fromEntries(
    stageSettings(p).map(({ stage, settings }) => [
      stage,
      Object.fromEntries(settings.map((s) => [s.label, s.value])),
    ]),
  );

describe('stage settings', () => {
  it('lists each declared stage with its settings, defaults filled in', () => {
    const s = settingsOf();
    expect(Object.keys(s)).toEqual(['prepare', 'train', 'evaluate', 'publish']);
    expect(s.prepare).toMatchObject({
      Inputs: '/data/tiny.txt',
      Tokenizer: 'char',
      'Validation share': '10 %',
      'Remove duplicates': 'no',
      Seed: '1337',
    });
    expect(s.train).toMatchObject({
      Preset: 'cpu-tiny',
      Starts: 'from scratch',
      Steps: '1,200',
      Model: 'nLayer=1, nEmbd=32',
      Training: 'batchSize=4',
      Device: 'cpu',
    });
    expect(s.evaluate).toMatchObject({ Text: 'the prepared validation split' });
    expect(s.publish!.Pin).toMatch(/^yes/);
  });

  it('says when training continues a parent model, and shows the claim stage', () => {
    const continued = pipelineSchema.parse({
      ...input,
      stages: { ...input.stages, train: { iters: 50, from: { modelCid: 'bafyparent' } } },
    });
    expect(settingsOf(continued).train).toMatchObject({
      Continues: 'bafyparent',
      Steps: '50 more than the parent',
      Model: 'the parent’s architecture',
    });
    expect(settingsOf(withClaim).claim).toMatchObject({
      Lineage: '#3',
      Trainer: 'dev account 1',
      Verifiers: 'none on this machine',
      'Valid for': '24 h 0 min',
    });
  });
});

describe('pipeline issues', () => {
  it('names each invalid field as the file spells it', () => {
    const parsed = pipelineSchema.safeParse({
      ...input,
      stages: { ...input.stages, train: { iters: -5 } },
    });
    expect(parsed.success).toBe(false);
    const error = invalidParams('pipeline', parsed.error!).toData();
    expect(pipelineIssues(error)).toEqual([
      { path: 'stages.train.iters', message: expect.stringMatching(/>0|positive/) },
    ]);
  });

  it('is null for errors that are not about fields', () => {
    expect(pipelineIssues({ code: 'NOT_FOUND', message: 'no pipeline file at /x.json' })).toBeNull();
    expect(pipelineIssues({ message: 'network down' })).toBeNull();
    expect(pipelineIssues(undefined)).toBeNull();
  });
});

describe('run options and progress', () => {
  it('offers to stop after any stage but the last one that runs', () => {
    expect(stopAfterChoices(pipeline)).toEqual(['prepare', 'train', 'evaluate']);
    expect(stopAfterChoices(withClaim)).toEqual(['prepare', 'train', 'evaluate', 'publish']);
  });

  it('marks the stages before the running one done and stops at "until"', () => {
    expect(liveStages(pipeline, undefined, 'train')).toEqual([
      { stage: 'prepare', state: 'done' },
      { stage: 'train', state: 'current' },
      { stage: 'evaluate', state: 'todo' },
      { stage: 'publish', state: 'todo' },
    ]);
    expect(liveStages(withClaim, 'evaluate', 'prepare').map((s) => s.stage)).toEqual([
      'prepare',
      'train',
      'evaluate',
    ]);
    expect(liveStages(withClaim, undefined, 'claim').at(-1)).toEqual({ stage: 'claim', state: 'current' });
    // before the first progress event names a stage
    expect(liveStages(pipeline, undefined, '').every((s) => s.state === 'todo')).toBe(true);
  });
});

describe('results', () => {
  it('words each outcome as ran, cached or skipped', () => {
    const label = (status: StageReport['status']) => stageOutcome({ status }).label;
    expect(['done', 'resumed', 'cached', 'skipped', 'failed'].map((s) => label(s as never))).toEqual([
      'ran',
      'resumed',
      'cached',
      'skipped',
      'failed',
    ]);
  });

  it('formats stage times', () => {
    expect(formatStageSeconds(0.04)).toBe('0.0 s');
    expect(formatStageSeconds(3.26)).toBe('3.3 s');
    expect(formatStageSeconds(75)).toBe('1 min 15 s');
  });

  const result = (outputs: PipelineRunResult['outputs']): PipelineRunResult => ({
    name: 'tiny',
    stages: [],
    outputs,
    seconds: 1,
  });
  const prepare = {
    datasetCid: 'bafydata',
    datasetDir: '/d',
    evalTextCid: 'bafytext',
    tokenizer: 'char',
    vocabSize: 65,
    trainTokens: 1000,
  };
  const train = {
    checkpointCid: 'bafyckpt',
    checkpointPath: '/c',
    iterations: 10,
    tokens: 100,
    trainLoss: 2,
    valLoss: 2.1,
    parentModelCid: null,
  };
  const evaluate = {
    modelCid: 'bafymodel',
    modelDir: '/m',
    evaluationCid: 'bafyeval',
    evalTextCid: 'bafytext',
    bitsPerByte: 3.5,
    top1Accuracy: 0.3,
    parameters: 1000,
  };
  const publish = { pipelineCid: 'bafypipeline', pinned: [] };

  it('offers a claim of the model with its pipeline CID once both exist', () => {
    expect(claimablePipelineModel(result({ prepare, train, evaluate, publish }))).toEqual({
      modelCid: 'bafymodel',
      pipelineCid: 'bafypipeline',
      checkpointCid: 'bafyckpt',
      datasetCid: 'bafydata',
    });
    // stopped before publishing: no pipeline CID to put in the metadata yet
    expect(claimablePipelineModel(result({ prepare, train, evaluate }))).toBeNull();
    // the pipeline's own claim stage minted it already
    const claim = {
      claimId: 'claim-1',
      claimCid: null,
      metadataCid: null,
      tokenId: 7,
      score: '1',
      status: 'minted',
    };
    expect(claimablePipelineModel(result({ prepare, train, evaluate, publish, claim }))).toBeNull();
  });
});
