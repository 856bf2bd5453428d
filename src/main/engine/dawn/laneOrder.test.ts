import { describe, expect, it } from 'vitest';
import { inLaneOrder, laneOrderFromEnv, reverseLanes } from './laneOrder.ts';

const byIndex = `@group(0) @binding(0) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(64, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  y[wid.x * 64u + lid] = f32(lid);
}`;

const byId = `@compute @workgroup_size(16, 16, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid3: vec3<u32>) {
  let tx = lid3.x;
}`;

describe('reversed lanes (race checks on software Vulkan)', () => {
  it('binds the local index to size − 1 − the physical one, on entry', () => {
    const out = reverseLanes(byIndex);
    expect(out).toContain('@builtin(local_invocation_index) lidPhysical: u32)');
    expect(out).toMatch(
      /lidPhysical: u32\) \{\n {2}\/\/ lanes reversed[^\n]*\n {2}let lid = 63u - lidPhysical;\n {2}y\[/,
    );
    // the body is untouched
    expect(out).toContain('y[wid.x * 64u + lid] = f32(lid);');
  });

  it('reverses each axis of the local id', () => {
    const out = reverseLanes(byId);
    expect(out).toContain('@builtin(local_invocation_id) lid3Physical: vec3<u32>)');
    expect(out).toContain('let lid3 = vec3<u32>(15u, 15u, 0u) - lid3Physical;');
  });

  it('takes a one-axis size, and leaves subgroup builtins physical', () => {
    const code = `@compute @workgroup_size(128)
fn main(@builtin(local_invocation_index) lid: u32,
        @builtin(subgroup_id) sg: u32, @builtin(subgroup_invocation_id) sgLane: u32) {
}`;
    const out = reverseLanes(code);
    expect(out).toContain('let lid = 127u - lidPhysical;');
    expect(out).toContain('@builtin(subgroup_id) sg: u32, @builtin(subgroup_invocation_id) sgLane: u32)');
  });

  it('leaves a kernel that reads no local index as it is', () => {
    const code = '@compute @workgroup_size(8)\nfn main(@builtin(workgroup_id) wid: vec3<u32>) {}';
    expect(reverseLanes(code)).toBe(code);
  });

  it('refuses a kernel it cannot rewrite rather than run it unchecked', () => {
    expect(() => reverseLanes('fn main() {}')).toThrow(/workgroup_size/);
    expect(() => reverseLanes('@compute @workgroup_size(WG)\nfn main() {}')).toThrow(/not literal/);
  });

  it('is off unless asked for, and says what it accepts', () => {
    expect(laneOrderFromEnv({})).toBe('natural');
    expect(laneOrderFromEnv({ XAI_LINK_DAWN_LANE_ORDER: 'reversed' })).toBe('reversed');
    expect(() => laneOrderFromEnv({ XAI_LINK_DAWN_LANE_ORDER: 'backwards' })).toThrow(/natural or reversed/);
    expect(inLaneOrder(byIndex, 'natural')).toBe(byIndex);
    expect(inLaneOrder(byIndex, 'reversed')).toBe(reverseLanes(byIndex));
  });
});
