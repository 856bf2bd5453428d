/**
 * XAI_LINK_GPU_ADAPTER on a real adapter. Dawn reads it once per process, when its instance is made, so each case
 * opens the device in a process of its own.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { dawnDevice } from './device.ts';

/** The adapter a fresh process opens with XAI_LINK_GPU_ADAPTER set to `name`, or its error. */
function openWith(name: string): string {
  const script = `
    const { dawnDevice } = await import(${JSON.stringify(new URL('./device.ts', import.meta.url).href)});
    try { console.log('opened ' + (await dawnDevice()).adapter); } catch (e) { console.log('error ' + e.message); }
    process.exit(0);`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, XAI_LINK_GPU_ADAPTER: name },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return out.split('\n').find((l) => l.startsWith('opened ') || l.startsWith('error ')) ?? out;
}

describe('choosing the GPU by name', () => {
  it("opens the adapter whose name contains the given part, and names the machine's adapters when none does", async () => {
    const { adapter } = await dawnDevice();
    // the driver's adapter name ("llvmpipe (LLVM 15.0.6, 256 bits)", "NVIDIA H200") begins with a word of the description
    const part = adapter.split(/[\s:(]/)[0]!;
    expect(openWith(part)).toBe(`opened ${adapter}`);
    const wrong = 'no-such-gpu-1234';
    const refused = openWith(wrong);
    expect(refused).toMatch(
      new RegExp(
        `^error no GPU adapter's name contains "${wrong}" \\(XAI_LINK_GPU_ADAPTER, case matters\\): this machine has "`,
      ),
    );
    expect(refused).toContain(part);
  }, 120_000);
});
