import type { SerializedError } from '@reduxjs/toolkit';
import type { ApiErrorData, ApiIssue } from '../../../../shared/api/errors.ts';
import { describeSigner } from '../../../../shared/claims/signer.ts';
import {
  stageNames,
  type Pipeline,
  type PipelineRunResult,
  type StageName,
  type StageReport,
} from '../../../../shared/pipelines/pipeline.ts';
import { formatCount, formatDuration } from '../../util/format.ts';

/** How a pipeline, its run and its results read on the Pipelines view (pure, so they are unit-tested). */

export const STAGE_TITLES: Record<StageName, string> = {
  prepare: 'Prepare',
  train: 'Train',
  evaluate: 'Evaluate',
  publish: 'Publish',
  claim: 'Claim',
};

export interface Setting {
  label: string;
  value: string;
  /** A path, CID or code-like value, shown in monospace. */
  mono?: boolean;
}

export interface StageSettings {
  stage: StageName;
  settings: Setting[];
}

const yesNo = (b: boolean): string => (b ? 'yes' : 'no');

/** `{ nLayer: 1, nHead: 2 }` → "nLayer=1, nHead=2"; empty → what applies instead. */
function overrides(o: Record<string, unknown>, none: string): string {
  const entries = Object.entries(o);
  if (entries.length === 0) return none;
  return entries.map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(', ');
}

/** Every stage the pipeline declares, with its settings (defaults filled in by validation) in words. */
export function stageSettings(p: Pipeline): StageSettings[] {
  const { prepare, train, evaluate, publish, claim } = p.stages;
  const out: StageSettings[] = [
    {
      stage: 'prepare',
      settings: [
        { label: 'Inputs', value: prepare.inputs.join(', '), mono: true },
        { label: 'Tokenizer', value: prepare.tokenizer },
        { label: 'Validation share', value: `${+(prepare.valRatio * 100).toFixed(2)} %` },
        { label: 'Remove duplicates', value: yesNo(prepare.dedup) },
        { label: 'Seed', value: String(prepare.seed) },
      ],
    },
    {
      stage: 'train',
      settings: [
        { label: 'Preset', value: train.preset },
        train.from
          ? { label: 'Continues', value: train.from.modelCid, mono: true }
          : { label: 'Starts', value: 'from scratch' },
        {
          label: 'Steps',
          value: train.from ? `${formatCount(train.iters)} more than the parent` : formatCount(train.iters),
        },
        {
          label: 'Model',
          value: train.from
            ? 'the parent’s architecture'
            : overrides(train.model, 'the preset’s architecture'),
        },
        { label: 'Training', value: overrides(train.train, 'the preset’s settings') },
        {
          label: 'Device',
          value: train.threads ? `${train.device}, ${train.threads} threads` : train.device,
        },
        { label: 'Seed', value: String(train.seed) },
      ],
    },
    {
      stage: 'evaluate',
      settings: [
        evaluate.text === 'prepared'
          ? { label: 'Text', value: 'the prepared validation split' }
          : 'cid' in evaluate.text
            ? { label: 'Text (CID)', value: evaluate.text.cid, mono: true }
            : { label: 'Text (file)', value: evaluate.text.file, mono: true },
        { label: 'At most', value: `${formatCount(evaluate.maxTokens)} tokens` },
      ],
    },
    {
      stage: 'publish',
      settings: [
        {
          label: 'Pin',
          value: publish.pin ? 'yes: the dataset, checkpoint, model and pipeline stay on this node' : 'no',
        },
      ],
    },
  ];
  if (claim) {
    out.push({
      stage: 'claim',
      settings: [
        { label: 'Lineage', value: `#${claim.lineageId}` },
        { label: 'Trainer', value: describeSigner(claim.trainer) },
        {
          label: 'Verifiers',
          value: claim.verifiers.length
            ? claim.verifiers.map(describeSigner).join(', ')
            : 'none on this machine',
        },
        { label: 'Attestations to add', value: String(claim.attestations.length) },
        ...(claim.submitter ? [{ label: 'Submitter', value: describeSigner(claim.submitter) }] : []),
        { label: 'Score tolerance', value: String(claim.tolerance) },
        { label: 'Valid for', value: formatDuration(claim.deadlineSeconds) },
      ],
    });
  }
  return out;
}

/**
 * The problems of an invalid pipeline, each naming its field (e.g. "stages.train.iters"), or null when
 * the error is of another kind (a missing file, a file that is not JSON…).
 */
export function pipelineIssues(error: ApiErrorData | SerializedError | undefined): ApiIssue[] | null {
  if (!error || !('code' in error) || error.code !== 'INVALID_PARAMS') return null;
  const data = error as ApiErrorData;
  if (data.issues && data.issues.length > 0) return data.issues;
  return data.field !== undefined ? [{ path: data.field, message: data.message }] : null;
}

/** The stages a run can stop after: all but the pipeline's last (stopping there is a full run). */
export function stopAfterChoices(p: Pipeline): StageName[] {
  const last = p.stages.claim ? 'claim' : 'publish';
  return stageNames.slice(0, stageNames.indexOf(last));
}

/** A stage's outcome in the words of the result table, and its badge tone. */
export function stageOutcome(r: Pick<StageReport, 'status'>): { label: string; tone: string } {
  switch (r.status) {
    case 'done':
      return { label: 'ran', tone: 'badge-ok' };
    case 'resumed':
      return { label: 'resumed', tone: 'badge-ok' };
    case 'cached':
      return { label: 'cached', tone: 'badge-info' };
    case 'skipped':
      return { label: 'skipped', tone: 'badge-neutral' };
    case 'failed':
      return { label: 'failed', tone: 'badge-no' };
    default:
      return { label: r.status, tone: 'badge-info' };
  }
}

/** 0.04 → "0.0 s", 3.21 → "3.2 s", 75 → "1 min 15 s". */
export function formatStageSeconds(seconds: number): string {
  return seconds < 10 ? `${seconds.toFixed(1)} s` : formatDuration(seconds);
}

/** The title main gives a pipeline's job (PipelinesService), to find the run of this pipeline. */
export function pipelineJobTitle(name: string): string {
  return `Pipeline ${name}`;
}

export type LiveStageState = 'done' | 'current' | 'todo';

/** Where a running pipeline stands, from the stage its job's latest progress event names. */
export function liveStages(
  p: Pipeline,
  until: StageName | undefined,
  current: string | null,
): { stage: StageName; state: LiveStageState }[] {
  const stopAt = until ? stageNames.indexOf(until) : stageNames.length - 1;
  const at = stageNames.indexOf(current as StageName);
  return stageNames
    .filter((s, i) => i <= stopAt && (s !== 'claim' || p.stages.claim))
    .map((stage, i) => ({ stage, state: at < 0 || i > at ? 'todo' : i < at ? 'done' : 'current' }));
}

export interface ClaimablePipelineModel {
  modelCid: string;
  pipelineCid: string;
  checkpointCid?: string;
  datasetCid?: string;
}

/**
 * What the claim wizard needs from a run: its model and the CID of the pipeline that made it; null when
 * the run did not get that far, or when its own claim stage already minted the model.
 */
export function claimablePipelineModel(r: PipelineRunResult): ClaimablePipelineModel | null {
  const model = r.outputs.evaluate?.modelCid;
  const pipelineCid = r.outputs.publish?.pipelineCid;
  if (!model || !pipelineCid || r.outputs.claim?.tokenId) return null;
  return {
    modelCid: model,
    pipelineCid,
    ...(r.outputs.train ? { checkpointCid: r.outputs.train.checkpointCid } : {}),
    ...(r.outputs.prepare ? { datasetCid: r.outputs.prepare.datasetCid } : {}),
  };
}
