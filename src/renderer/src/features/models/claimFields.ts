import type { ImprovementJson } from '../../../../shared/chain/eip712.ts';
import { formatTime, shortAddress } from '../../util/format.ts';
import { formatScore } from '../../util/score.ts';
import type { ConfirmField } from '../wallet/ConfirmDialog.tsx';

/** Every field of an EIP-712 Improvement, in words, for the confirmation dialog. */
export function improvementFields(
  imp: ImprovementJson,
  ctx: { lineageName: string; metricName: string; registry: string; chainId: number },
): ConfirmField[] {
  return [
    { label: 'Lineage', value: `#${imp.lineageId} “${ctx.lineageName}”` },
    {
      label: 'Parent',
      value:
        imp.parentTokenId === '0'
          ? 'the genesis model (first version)'
          : `token #${imp.parentTokenId} (current best)`,
    },
    { label: 'Trainer (receives the token)', value: imp.trainer, mono: true },
    { label: 'Model CID', value: imp.modelCid, mono: true },
    { label: 'Metadata CID', value: imp.metadataCid, mono: true },
    { label: 'Evaluation report CID', value: imp.evaluationCid, mono: true },
    { label: 'Score', value: `${formatScore(imp.score, ctx.metricName)} (on-chain ${imp.score})` },
    { label: 'Nonce', value: imp.nonce },
    { label: 'Valid until', value: formatTime(Number(imp.deadline) * 1000) },
    {
      label: 'Signed for',
      value: `chain ${ctx.chainId}, ModelRegistry ${shortAddress(ctx.registry)} (EIP-712 domain “XAI-Link” v1)`,
    },
  ];
}
