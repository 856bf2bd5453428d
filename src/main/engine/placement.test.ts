import { describe, expect, it } from 'vitest';
import { runConfigSchema } from '../../shared/engine/config.ts';
import { gptParamLayout } from './gpt.ts';
import { buildTrainGraph } from './graphs.ts';
import { measurePlacement, parsePlacementLog } from './placement.ts';

const tag = (line: number) =>
  `2026-12-06 17:36:41.868 [V:onnxruntime:, session_state.cc:${line} VerifyEachNodeIsAssignedToAnEp]`;
const report = [
  `${tag(1377)} Node placements`,
  `${tag(1383)}  Node(s) placed on [CPUExecutionProvider]. Number of nodes: 2`,
  `${tag(1385)}   FusedMatMul (h0.attn.FusedMatMul_76#27)`,
  `${tag(1385)}   Dropout (h0.attn.Dropout_79#30)`,
  `${tag(1383)}  Node(s) placed on [WebGpuExecutionProvider]. Number of nodes: 4`,
  `${tag(1385)}   Split (params.Split_1#0)`,
  `${tag(1385)}   MatMul (h0.mlp.MatMul_3#1)`,
  `${tag(1385)}   MemcpyFromHost (Memcpy)`,
  `${tag(1385)}   MemcpyToHost (Memcpy_token_1)`,
  '2026-12-06 17:36:41.873 [I:onnxruntime:, inference_session.cc:3094 Initialize] Session successfully initialized.',
];

describe('placement report', () => {
  it('counts CPU nodes by op type and the copies around them', () => {
    expect(parsePlacementLog(report.join('\n'), 'webgpu')).toEqual({
      providers: {
        CPUExecutionProvider: ['FusedMatMul', 'Dropout'],
        WebGpuExecutionProvider: ['Split', 'MatMul', 'MemcpyFromHost', 'MemcpyToHost'],
      },
      cpuNodes: 2,
      copyNodes: 2,
      cpuOps: { FusedMatMul: 1, Dropout: 1 },
    });
  });

  it("keeps reading a list that another thread's log line interrupts", () => {
    const interleaved = [...report];
    interleaved.splice(
      6,
      0,
      '2026-12-06 17:36:41.868 [V:onnxruntime:, webgpu_context.cc:120 Init] adapter ready',
    );
    expect(parsePlacementLog(interleaved.join('\n'), 'webgpu').copyNodes).toBe(2);
  });

  it('refuses a report cut off before its lists end, naming the provider and both counts', () => {
    // what a log truncated at a full stdio pipe looked like: the copies at the end of the GPU list were missing
    expect(() => parsePlacementLog(report.slice(0, 6).join('\n'), 'webgpu')).toThrow(
      /incomplete: WebGpuExecutionProvider announces 4 nodes but 1 are listed/,
    );
  });

  it('refuses a log without a report', () => {
    expect(() => parsePlacementLog(report[9]!, 'webgpu')).toThrow(/no placement report/);
  });

  it('reads the whole report of a real session although this process does not read while the child logs', async () => {
    const model = { nLayer: 2, nHead: 2, nEmbd: 32, blockSize: 16, vocabSize: 37, dropout: 0.1, bias: true };
    const { train } = runConfigSchema.parse({ model, train: { batchSize: 4, maxIters: 10 } });
    const graph = buildTrainGraph({
      model,
      train,
      layout: gptParamLayout(model),
      kind: 'step',
      dropoutSeed: 1,
    });
    const pending = measurePlacement(graph.encode(), 'cpu');
    // block this event loop while the child writes its verbose log (over 64 KiB): a pipe would fill and drop the rest
    const until = Date.now() + 3000;
    while (Date.now() < until);
    const p = await pending;
    expect(p.cpuNodes).toBe(0);
    expect(p.providers.CPUExecutionProvider!.length).toBeGreaterThan(300);
  }, 60_000);
});
