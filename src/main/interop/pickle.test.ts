import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PickleError, PyTuple, unpickle } from './pickle.ts';
import { pickle, PyFloat, PyOrderedDict } from './pickleWriter.ts';
import { readNanoGptMeta } from './nanoGptMeta.ts';
import { TorchFile } from './torchFile.ts';

const FIXTURES = join(import.meta.dirname, 'fixtures');
const bytes = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

describe('restricted unpickler', () => {
  it('refuses os.system (GLOBAL + REDUCE) before calling anything, naming the global', () => {
    const hostile = bytes("cos\nsystem\n(S'touch /tmp/pwned'\ntR.");
    expect(() => unpickle(hostile)).toThrow(/refusing to load global os\.system/);
    const stackGlobal = bytes('\x80\x04\x8c\x08builtins\x94\x8c\x04eval\x94\x93\x94.');
    expect(() => unpickle(stackGlobal)).toThrow(/refusing to load global builtins\.eval/);
  });

  it('refuses the hostile ckpt.pt made with Python (posix.system in data.pkl)', () => {
    expect(() => new TorchFile(join(FIXTURES, 'hostile.pt'))).toThrow(
      /refusing to load global posix\.system/,
    );
  });

  it('refuses opcodes that instantiate classes, and truncated or malformed input', () => {
    expect(() => unpickle(bytes('(i__main__\nX\n.'))).toThrow(PickleError);
    expect(() => unpickle(bytes('\x80\x02X\x10\x00\x00\x00abc'))).toThrow(/truncated/);
    expect(() => unpickle(bytes('\x80\x02a.'))).toThrow(PickleError);
  });

  it("reads what the writer writes (protocol 2), and nanoGPT's meta.pkl (protocol 4)", () => {
    const value = {
      n: 3,
      big: 2 ** 40,
      neg: -70000,
      f: new PyFloat(1),
      x: 0.1,
      s: 'héllo',
      t: Object.assign(new PyTuple(), [1, 'a']),
      l: [true, false, null],
      od: new PyOrderedDict([['k', 1]]),
      m: new Map<number, string>([[0, 'zero']]),
    };
    const back = unpickle(pickle(value), { globals: { 'collections.OrderedDict': () => new Map() } }) as Map<
      string,
      unknown
    >;
    expect(back.get('n')).toBe(3);
    expect(back.get('big')).toBe(2 ** 40);
    expect(back.get('neg')).toBe(-70000);
    expect(back.get('f')).toBe(1);
    expect(back.get('x')).toBe(0.1);
    expect(back.get('s')).toBe('héllo');
    expect([...(back.get('t') as PyTuple)]).toEqual([1, 'a']);
    expect(back.get('l')).toEqual([true, false, null]);
    expect((back.get('od') as Map<string, number>).get('k')).toBe(1);
    expect((back.get('m') as Map<number, string>).get(0)).toBe('zero');

    const meta = readNanoGptMeta(join(FIXTURES, 'nanogpt-data', 'meta.pkl'));
    expect(meta.vocabSize).toBe(11);
    expect(meta.tokenizer).toMatchObject({
      kind: 'char',
      chars: [' ', '.', 'a', 'c', 'e', 'h', 'm', 'n', 'o', 's', 't'],
    });
  });

  it('never runs or hangs on arbitrary bytes: it returns a value or throws a PickleError', () => {
    const meta = readFileSync(join(FIXTURES, 'nanogpt-data', 'meta.pkl'));
    fc.assert(
      fc.property(fc.nat(meta.length - 1), fc.integer({ min: 0, max: 255 }), (at, b) => {
        const mutated = Uint8Array.from(meta);
        mutated[at] = b;
        try {
          unpickle(mutated);
        } catch (e) {
          expect(e).toBeInstanceOf(PickleError);
        }
      }),
      { numRuns: 300 },
    );
  });
});
