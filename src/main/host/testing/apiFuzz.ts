import fc, { type Arbitrary } from 'fast-check';
import { apiErrorDataSchema, apiRequests } from '../../../shared/api/index.ts';
import type { RequestSpec } from '../../../shared/api/contract.ts';
import { paramsArbitrary, type Mutation } from '../../../shared/api/testing/zodArbitrary.ts';
import type { ResultEnvelope } from '../../../shared/api/wire.ts';

/**
 * The API fuzz: every method of the contract (read from the contract itself, so a method added later is
 * fuzzed too) with params derived from its zod schema, valid and mutated. Shared by the CI test and
 * `npm run bench:fuzz`.
 */

/**
 * Methods whose VALID params would start real, heavy or outward-facing work. They are still fuzzed, but
 * only with params their schema refuses; each reason says why the valid ones are left out.
 */
export const VALID_PARAMS_EXCLUDED: Readonly<Record<string, string>> = {
  'demo.run': 'trains a model and runs a whole claim: minutes of CPU per case',
  'runs.create': 'starts a training worker (ONNX Runtime) per case',
  'runs.resume': 'restarts a training worker',
  'pipelines.run': 'runs dataset preparation, training and publication',
  'ipfs.setOnline': 'opens libp2p listeners on every interface: the fuzz must not expose the machine',
  'ipfs.connect': 'dials arbitrary multiaddrs',
  'chain.configure': 'points the chain at an arbitrary RPC URL, which then slows every later chain call',
  'chainlink.configure': 'points Chainlink at arbitrary gateways',
};

/** Names that are not methods: the dispatcher must answer UNKNOWN_METHOD, never look them up blindly. */
const NOT_METHODS = ['__proto__', 'constructor', 'toString', 'system', 'system.ping.x', '', 'x'.repeat(300)];

export const FUZZED_METHODS: readonly string[] = Object.keys(apiRequests);

export interface FuzzCase {
  method: string;
  mutation: Mutation | 'unknown-method';
  params: unknown;
}

function casesOf(method: string): Arbitrary<FuzzCase> {
  const spec = apiRequests[method as keyof typeof apiRequests] as RequestSpec;
  const cases = paramsArbitrary(spec.params).map(({ mutation, params }) => ({ method, mutation, params }));
  if (!(method in VALID_PARAMS_EXCLUDED)) return cases;
  // As the dispatcher sees them: missing params mean {}, and JSON (the WebSocket) turns NaN into null.
  const accepted = (params: unknown): boolean =>
    spec.params.safeParse(params ?? {}).success ||
    spec.params.safeParse(JSON.parse(JSON.stringify(params ?? {}) ?? '{}')).success;
  return cases.filter((c) => !accepted(c.params));
}

/** One case: any method (each equally likely), or a name that is no method. */
export const fuzzCase: Arbitrary<FuzzCase> = fc.oneof(
  { arbitrary: fc.oneof(...FUZZED_METHODS.map(casesOf)), weight: 20 },
  {
    arbitrary: fc
      .tuple(fc.constantFrom(...NOT_METHODS), fc.jsonValue({ maxDepth: 2 }))
      .map(([method, params]): FuzzCase => ({ method, mutation: 'unknown-method', params })),
    weight: 1,
  },
);

export type ReplyVerdict = 'result' | 'typed-error' | 'internal-error';

/**
 * A reply must be a result that matches the method's result schema, or a typed error. INTERNAL is typed
 * too, but means a handler crashed: it is counted apart, and the caller decides whether to fail on it.
 */
export function judgeReply(method: string, reply: ResultEnvelope): ReplyVerdict {
  if (reply.ok) {
    const spec = apiRequests[method as keyof typeof apiRequests] as RequestSpec | undefined;
    if (!spec) throw new Error(`${method} is no method, yet it returned a result`);
    const checked = spec.result.safeParse(reply.result);
    if (!checked.success)
      throw new Error(`${method} returned a result outside its schema: ${checked.error.message}`);
    return 'result';
  }
  const error = apiErrorDataSchema.safeParse(reply.error);
  if (!error.success)
    throw new Error(`${method} failed with an untyped error: ${JSON.stringify(reply.error)}`);
  return error.data.code === 'INTERNAL' ? 'internal-error' : 'typed-error';
}

/** Counts per method and per verdict, for the bench's printout and the test's assertions. */
export class FuzzTally {
  readonly byVerdict: Record<ReplyVerdict, number> = { result: 0, 'typed-error': 0, 'internal-error': 0 };
  readonly byMutation: Record<string, number> = {};
  readonly byMethod: Record<string, number> = {};
  readonly internal: { method: string; message: string }[] = [];
  total = 0;

  add(c: FuzzCase, reply: ResultEnvelope): ReplyVerdict {
    const verdict = judgeReply(c.method, reply);
    this.total += 1;
    this.byVerdict[verdict] += 1;
    this.byMutation[c.mutation] = (this.byMutation[c.mutation] ?? 0) + 1;
    this.byMethod[c.method] = (this.byMethod[c.method] ?? 0) + 1;
    if (verdict === 'internal-error' && !reply.ok)
      this.internal.push({ method: c.method, message: reply.error.message });
    return verdict;
  }
}
