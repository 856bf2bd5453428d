import fc, { type Arbitrary } from 'fast-check';
import type { z } from 'zod';

/**
 * fast-check arbitraries derived from the contract's zod schemas, so the fuzz suite covers every method
 * (and every method added later) without a hand-written generator per method. Only the schema features
 * the contract uses are read; anything else falls back to "any JSON value", which is still a fine fuzz input.
 */

interface CheckDef {
  check: string;
  format?: string;
  pattern?: RegExp;
  minimum?: number;
  maximum?: number;
  value?: number;
  inclusive?: boolean;
}

interface SchemaDef {
  type: string;
  checks?: { _zod: { def: CheckDef } }[];
  shape?: Record<string, z.ZodType>;
  catchall?: z.ZodType;
  innerType?: z.ZodType;
  element?: z.ZodType;
  options?: z.ZodType[];
  entries?: Record<string, string | number>;
  values?: unknown[];
  keyType?: z.ZodType;
  valueType?: z.ZodType;
  in?: z.ZodType;
  left?: z.ZodType;
  right?: z.ZodType;
  getter?: () => z.ZodType;
}

const defOf = (schema: z.ZodType): SchemaDef => (schema as unknown as { _zod: { def: SchemaDef } })._zod.def;
const checksOf = (def: SchemaDef): CheckDef[] => (def.checks ?? []).map((c) => c._zod.def);

/** Strings a hostile client tries on any text field: paths out of the sandbox or to no regular file, NULs, markup, huge text. */
export const HOSTILE_STRINGS: readonly string[] = [
  '',
  '../../etc/passwd',
  '../../../../../../etc/shadow',
  './.././..//x',
  'a\u0000b',
  '%2e%2e%2f%2e%2e%2fetc%2fpasswd',
  'C:\\Windows\\System32',
  // No regular file: a folder, a device that never ends, a file every read of which fails (EIO).
  '.',
  '/dev/zero',
  '/proc/self/mem',
  '~/.ssh/id_rsa',
  '<script>alert(1)</script>',
  '${process.exit(1)}',
  'bafy' + 'z'.repeat(60),
  '\ud800',
  '🤖'.repeat(50),
  'x'.repeat(100_000),
];

export const HOSTILE_NUMBERS: readonly number[] = [
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  -1,
  -0,
  0.5,
  2 ** 53,
  -(2 ** 63),
  1e308,
];

/** Arrays or objects nested `depth` deep: a parser that recurses without bound dies on these. */
export function deeplyNested(depth: number, asArray: boolean): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = asArray ? [value] : { a: value };
  return value;
}

/** Any value a hostile client could put where the schema wanted something else. */
export const hostileValue: Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(...HOSTILE_STRINGS),
  fc.constantFrom(...HOSTILE_NUMBERS),
  fc.constantFrom(null, true, false, [], {}, '__proto__', { __proto__: { polluted: true } }),
  fc.constantFrom(deeplyNested(1_000, true), deeplyNested(500, false)),
  fc.jsonValue({ maxDepth: 3 }),
);

function stringArbitrary(def: SchemaDef): Arbitrary<string> {
  const checks = checksOf(def);
  const min = Math.max(0, ...checks.filter((c) => c.check === 'min_length').map((c) => c.minimum ?? 0));
  const maxes = checks.filter((c) => c.check === 'max_length').map((c) => c.maximum ?? Infinity);
  const max = Math.min(Math.max(min, 64), ...maxes);
  const regex = checks.find((c) => c.check === 'string_format' && c.pattern)?.pattern;
  if (regex) {
    const matching = fc.stringMatching(regex);
    // A pattern's own length may break max_length: such a string is still a good (invalid) input.
    return maxes.length
      ? fc.oneof(
          matching.filter((s) => s.length >= min && s.length <= max),
          matching,
        )
      : matching;
  }
  return fc.string({ minLength: min, maxLength: max, unit: 'grapheme' });
}

function numberArbitrary(def: SchemaDef): Arbitrary<number> {
  const checks = checksOf(def);
  const integer = checks.some((c) => c.check === 'number_format' && /int/.test(c.format ?? ''));
  let min = integer ? Number.MIN_SAFE_INTEGER : -1e9;
  let max = integer ? Number.MAX_SAFE_INTEGER : 1e9;
  for (const c of checks) {
    if (c.check === 'greater_than' && c.value !== undefined)
      min = Math.max(min, c.inclusive ? c.value : integer ? Math.floor(c.value) + 1 : c.value);
    if (c.check === 'less_than' && c.value !== undefined)
      max = Math.min(max, c.inclusive ? c.value : integer ? Math.ceil(c.value) - 1 : c.value);
  }
  if (integer) {
    // Small values exercise the handlers far more than the extremes, which stay reachable.
    const small = fc.integer({
      min: Math.max(min, Math.min(max, -3)),
      max: Math.min(max, Math.max(min, 100)),
    });
    return fc.oneof(small, fc.integer({ min, max }));
  }
  return fc.double({ min, max, noNaN: true, noDefaultInfinity: true });
}

/** Values the schema accepts (mostly: refinements and cross-field rules are not read). */
export function arbitraryOf(schema: z.ZodType, depth = 0): Arbitrary<unknown> {
  const def = defOf(schema);
  const inner = (s: z.ZodType): Arbitrary<unknown> => arbitraryOf(s, depth + 1);
  if (depth > 12) return fc.constant(undefined);
  switch (def.type) {
    case 'string':
      return stringArbitrary(def);
    case 'number':
      return numberArbitrary(def);
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'undefined':
      return fc.constant(undefined);
    case 'enum':
      return fc.constantFrom(...Object.values(def.entries ?? {}));
    case 'literal':
      return fc.constantFrom(...(def.values ?? [null]));
    case 'optional':
      return fc.option(inner(def.innerType!), { nil: undefined, freq: 3 });
    case 'nullable':
      return fc.option(inner(def.innerType!), { nil: null, freq: 3 });
    case 'default':
    case 'prefault':
      return fc.option(inner(def.innerType!), { nil: undefined, freq: 2 });
    case 'readonly':
    case 'catch':
    case 'nonoptional':
      return inner(def.innerType!);
    case 'pipe':
      return inner(def.in!);
    case 'lazy':
      return inner(def.getter!());
    case 'array': {
      const checks = checksOf(def);
      const minLength = Math.max(
        0,
        ...checks.filter((c) => c.check === 'min_length').map((c) => c.minimum ?? 0),
      );
      const maxLength = Math.min(
        Math.max(minLength, 4),
        ...checks.filter((c) => c.check === 'max_length').map((c) => c.maximum ?? 4),
      );
      return fc.array(inner(def.element!), { minLength, maxLength });
    }
    case 'union':
      return fc.oneof(...(def.options ?? []).map(inner));
    case 'intersection':
      return fc
        .tuple(inner(def.left!), inner(def.right!))
        .map(([a, b]) => (isPlainObject(a) && isPlainObject(b) ? { ...a, ...b } : a));
    case 'record':
      return fc.dictionary(inner(def.keyType!) as Arbitrary<string>, inner(def.valueType!), { maxKeys: 3 });
    case 'object': {
      const shape = def.shape ?? {};
      const entries = Object.entries(shape).map(([key, s]) => [key, inner(s)] as const);
      return fc.tuple(...entries.map(([, a]) => a)).map((values) => {
        const out: Record<string, unknown> = {};
        entries.forEach(([key], i) => {
          if (values[i] !== undefined) out[key] = values[i];
        });
        return out;
      });
    }
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Dotted paths of every field of a value, for mutating one of them. */
function fieldPaths(value: unknown, prefix: string[] = [], out: string[][] = []): string[][] {
  if (isPlainObject(value))
    for (const [key, child] of Object.entries(value)) {
      out.push([...prefix, key]);
      fieldPaths(child, [...prefix, key], out);
    }
  return out;
}

function withField(value: unknown, path: string[], replace: (old: unknown) => unknown): unknown {
  if (path.length === 0) return replace(value);
  if (!isPlainObject(value)) return value;
  const [head, ...rest] = path;
  const copy = { ...value };
  const next = withField(copy[head!], rest, replace);
  if (next === undefined) delete copy[head!];
  else copy[head!] = next;
  return copy;
}

export type Mutation = 'valid' | 'wrong-field' | 'missing-field' | 'extra-field' | 'hostile-params';

/**
 * Params for one request: a valid value, or a valid value with one field made hostile, removed or added,
 * or something that is not params at all. Labelled, so a bench can count what it sent.
 */
export function paramsArbitrary(schema: z.ZodType): Arbitrary<{ mutation: Mutation; params: unknown }> {
  const valid = arbitraryOf(schema);
  const pick = (paths: string[][], n: number): string[] | undefined => paths[n % Math.max(1, paths.length)];
  return fc.oneof(
    valid.map((params) => ({ mutation: 'valid' as const, params })),
    fc.tuple(valid, fc.nat(), hostileValue).map(([params, n, bad]) => {
      const path = pick(fieldPaths(params), n);
      return { mutation: 'wrong-field' as const, params: path ? withField(params, path, () => bad) : bad };
    }),
    fc.tuple(valid, fc.nat()).map(([params, n]) => {
      const path = pick(fieldPaths(params), n);
      return {
        mutation: 'missing-field' as const,
        params: path ? withField(params, path, () => undefined) : params,
      };
    }),
    fc.tuple(valid, fc.string({ maxLength: 20 }), hostileValue).map(([params, key, bad]) => ({
      mutation: 'extra-field' as const,
      params: isPlainObject(params) ? { ...params, [key || 'extra']: bad } : params,
    })),
    hostileValue.map((params) => ({ mutation: 'hostile-params' as const, params })),
  );
}
