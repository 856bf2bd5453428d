import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ApiError } from '../../shared/api/errors.ts';
import { pipelineSchema } from '../../shared/pipelines/pipeline.ts';
import { examplePipelineFile } from './examplePipeline.ts';

const empty = mkdtempSync(join(tmpdir(), 'xai-example-'));
afterAll(() => rmSync(empty, { recursive: true, force: true }));

describe('the example pipeline the app offers', () => {
  it('is a valid pipeline whose inputs exist relative to its own folder', () => {
    const file = examplePipelineFile();
    const pipeline = pipelineSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
    expect(pipeline.stages.prepare.inputs.length).toBeGreaterThan(0);
    for (const input of pipeline.stages.prepare.inputs)
      expect(existsSync(resolve(dirname(file), input)), input).toBe(true);
  });

  it('says where it looked when the file is missing', () => {
    expect(() => examplePipelineFile(empty)).toThrow(ApiError);
    expect(() => examplePipelineFile(empty)).toThrow(join(empty, 'docs', 'examples', 'pipeline.json'));
  });
});
