import { describe, expect, it } from 'vitest';
import { envChoice } from './envChoice.ts';

describe('envChoice', () => {
  const choices = ['f32', 'f16'] as const;
  it('gives the first choice when the variable is unset or empty, and a listed one as it is', () => {
    expect(envChoice({}, 'X', choices)).toBe('f32');
    expect(envChoice({ X: '' }, 'X', choices)).toBe('f32');
    expect(envChoice({ X: 'f16' }, 'X', choices)).toBe('f16');
  });
  it('refuses anything else, naming what it takes', () => {
    expect(() => envChoice({ X: 'bf16' }, 'X', choices)).toThrow('X=bf16: use f32 or f16');
    expect(() => envChoice({ X: 'c' }, 'X', ['a', 'b', 'd'])).toThrow('X=c: use a, b or d');
  });
});
