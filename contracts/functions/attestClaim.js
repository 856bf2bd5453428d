// XAI-Link: Chainlink Functions source of FunctionsAttestor (contracts/src/FunctionsAttestor.sol).
// Each DON node runs it (Deno, no imports, at most 5 HTTP requests, 10 s): it fetches a claim's evaluation
// report and verifier attestations by CID from an IPFS gateway, checks they agree with the claim and that
// each EIP-712 signature recovers to a verifier of the lineage, and returns
// abi.encode(uint256 score, bytes32 attestationDigest, uint256 validSignatures). Any disagreement throws:
// the message ("code: detail") reaches the contract, which records it and attests nothing.
// The argument layout is documented in FunctionsAttestor.sol and src/shared/chain/functionsRequest.ts.

const [
  version,
  chainIdArg,
  registryArg,
  attestorArg,
  gatewayArg,
  metricName,
  verifiersArg,
  minSigsArg,
  toleranceArg,
  ...rest
] = args;
if (version !== '1') throw Error(`bad-args: layout version ${version}`);
if (rest.length < 10) throw Error('bad-args: missing claim fields or attestation CIDs');
const claim = {
  lineageId: rest[0],
  parentTokenId: rest[1],
  trainer: rest[2].toLowerCase(),
  modelCid: rest[3],
  metadataCid: rest[4],
  evaluationCid: rest[5],
  score: rest[6],
  nonce: rest[7],
  deadline: rest[8],
};
const attestationCids = rest.slice(9);
const chainId = BigInt(chainIdArg);
const registry = registryArg.toLowerCase();
const attestor = attestorArg.toLowerCase();
const verifiers = new Set(
  verifiersArg
    .toLowerCase()
    .split(',')
    .filter((v) => v !== ''),
);
const minSignatures = Number(minSigsArg);
const tolerance = BigInt(toleranceArg);
const gateway = gatewayArg.endsWith('/') ? gatewayArg : `${gatewayArg}/`;

// ---- Keccak-256 (the Ethereum variant: pad 0x01 … 0x80), 64-bit lanes as BigInt ----
const MASK = (1n << 64n) - 1n;
const rotl = (x, n) => (n === 0 ? x : ((x << BigInt(n)) | (x >> BigInt(64 - n))) & MASK);
const ROUND_CONSTANTS = [];
const ROTATIONS = new Array(25).fill(0);
{
  // Round constants from the LFSR of the Keccak reference, rotation offsets from its (x, y) walk.
  let r = 1;
  for (let round = 0; round < 24; round++) {
    let rc = 0n;
    for (let j = 0; j < 7; j++) {
      if (r & 1) rc |= 1n << BigInt((1 << j) - 1);
      r = r & 0x80 ? ((r << 1) ^ 0x71) & 0xff : (r << 1) & 0xff;
    }
    ROUND_CONSTANTS.push(rc);
  }
  let x = 1;
  let y = 0;
  for (let t = 0; t < 24; t++) {
    ROTATIONS[x + 5 * y] = (((t + 1) * (t + 2)) / 2) % 64;
    [x, y] = [y, (2 * x + 3 * y) % 5];
  }
}
function keccakF(a) {
  const c = new Array(5);
  const b = new Array(25);
  for (let round = 0; round < 24; round++) {
    for (let x = 0; x < 5; x++) c[x] = a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20];
    for (let x = 0; x < 5; x++) {
      const d = c[(x + 4) % 5] ^ rotl(c[(x + 1) % 5], 1);
      for (let y = 0; y < 25; y += 5) a[x + y] ^= d;
    }
    for (let x = 0; x < 5; x++) {
      for (let y = 0; y < 5; y++) b[y + 5 * ((2 * x + 3 * y) % 5)] = rotl(a[x + 5 * y], ROTATIONS[x + 5 * y]);
    }
    for (let y = 0; y < 25; y += 5) {
      for (let x = 0; x < 5; x++) a[x + y] = b[x + y] ^ (~b[((x + 1) % 5) + y] & MASK & b[((x + 2) % 5) + y]);
    }
    a[0] ^= ROUND_CONSTANTS[round];
  }
}
function keccak256(bytes) {
  const rate = 136;
  const padded = new Uint8Array((Math.floor(bytes.length / rate) + 1) * rate);
  padded.set(bytes);
  padded[bytes.length] ^= 0x01;
  padded[padded.length - 1] ^= 0x80;
  const state = new Array(25).fill(0n);
  for (let off = 0; off < padded.length; off += rate) {
    for (let i = 0; i < rate / 8; i++) {
      let lane = 0n;
      for (let k = 7; k >= 0; k--) lane = (lane << 8n) | BigInt(padded[off + i * 8 + k]);
      state[i] ^= lane;
    }
    keccakF(state);
  }
  const out = new Uint8Array(32);
  for (let i = 0; i < 4; i++) {
    for (let k = 0; k < 8; k++) out[i * 8 + k] = Number((state[i] >> BigInt(8 * k)) & 0xffn);
  }
  return out;
}

// ---- bytes helpers and ABI words ----
const utf8 = (s) => new TextEncoder().encode(s);
const hexToBytes = (hex) => {
  const h = hex.startsWith('0x') ? hex.slice(2) : hex;
  if (h.length % 2 !== 0 || /[^0-9a-fA-F]/.test(h)) throw Error('bad hex');
  return Uint8Array.from({ length: h.length / 2 }, (_, i) => parseInt(h.slice(2 * i, 2 * i + 2), 16));
};
const bytesToHex = (b) => `0x${Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')}`;
const toBigInt = (b) => (b.length === 0 ? 0n : BigInt(bytesToHex(b)));
const word = (n) => hexToBytes(BigInt(n).toString(16).padStart(64, '0'));
const concat = (...parts) => {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
};
const keccakText = (s) => keccak256(utf8(s));

// ---- the EIP-712 attestation digest (ImprovementTypes.sol, src/shared/chain/eip712.ts) ----
const IMPROVEMENT_TYPE =
  'Improvement(uint256 lineageId,uint256 parentTokenId,address trainer,string modelCid,string metadataCid,string evaluationCid,uint64 score,uint256 nonce,uint256 deadline)';
function attestationDigest() {
  const domainSeparator = keccak256(
    concat(
      keccakText('EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)'),
      keccakText('XAI-Link'),
      keccakText('1'),
      word(chainId),
      word(BigInt(registry)),
    ),
  );
  const improvementHash = keccak256(
    concat(
      keccakText(IMPROVEMENT_TYPE),
      word(claim.lineageId),
      word(claim.parentTokenId),
      word(BigInt(claim.trainer)),
      keccakText(claim.modelCid),
      keccakText(claim.metadataCid),
      keccakText(claim.evaluationCid),
      word(claim.score),
      word(claim.nonce),
      word(claim.deadline),
    ),
  );
  const attestationHash = keccak256(
    concat(keccakText(`Attestation(Improvement claim)${IMPROVEMENT_TYPE}`), improvementHash),
  );
  return keccak256(concat(new Uint8Array([0x19, 0x01]), domainSeparator, attestationHash));
}

// ---- secp256k1 public key recovery (affine coordinates, BigInt) ----
const P = 2n ** 256n - 2n ** 32n - 977n;
const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const G = [
  0x79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798n,
  0x483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8n,
];
const mod = (a, m) => ((a % m) + m) % m;
function inverse(a, m) {
  let [r0, r1, s0, s1] = [mod(a, m), m, 1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  return mod(s0, m);
}
function power(base, exp, m) {
  let result = 1n;
  let b = mod(base, m);
  for (let e = exp; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % m;
    b = (b * b) % m;
  }
  return result;
}
function add(p1, p2) {
  if (p1 === null) return p2;
  if (p2 === null) return p1;
  if (p1[0] === p2[0] && mod(p1[1] + p2[1], P) === 0n) return null;
  const l =
    p1[0] === p2[0]
      ? mod(3n * p1[0] * p1[0] * inverse(2n * p1[1], P), P)
      : mod((p2[1] - p1[1]) * inverse(p2[0] - p1[0], P), P);
  const x = mod(l * l - p1[0] - p2[0], P);
  return [x, mod(l * (p1[0] - x) - p1[1], P)];
}
function multiply(point, k) {
  let result = null;
  let addend = point;
  for (let e = k; e > 0n; e >>= 1n) {
    if (e & 1n) result = add(result, addend);
    addend = add(addend, addend);
  }
  return result;
}
/** The address that signed `digest`, or null (like OpenZeppelin's ECDSA.tryRecover: 65 bytes, low s). */
function recoverAddress(digest, signatureHex) {
  let sig;
  try {
    sig = hexToBytes(signatureHex);
  } catch {
    return null;
  }
  if (sig.length !== 65) return null;
  const r = toBigInt(sig.slice(0, 32));
  const s = toBigInt(sig.slice(32, 64));
  const v = sig[64] < 27 ? sig[64] : sig[64] - 27;
  if (v > 1 || r === 0n || r >= N || s === 0n || s > N / 2n) return null;
  const y2 = mod(r * r * r + 7n, P);
  let y = power(y2, (P + 1n) / 4n, P);
  if (mod(y * y, P) !== y2) return null;
  if (Number(y & 1n) !== v) y = P - y;
  const e = mod(toBigInt(digest), N);
  const rInv = inverse(r, N);
  const q = add(multiply(G, mod(-e * rInv, N)), multiply([r, y], mod(s * rInv, N)));
  if (q === null) return null;
  return bytesToHex(keccak256(concat(word(q[0]), word(q[1]))).slice(12));
}

// ---- fetch everything at once (the DON gives 10 s in all) ----
async function fetchJson(cid) {
  const res = await Functions.makeHttpRequest({ url: gateway + cid, timeout: 9000 });
  if (res.error) throw Error(`missing-content: ${cid} (${res.code ?? res.message ?? 'no answer'})`);
  if (typeof res.data !== 'object' || res.data === null) throw Error(`bad-content: ${cid} is not JSON`);
  return res.data;
}
// allSettled, then the first failure in argument order: every node reports the same error, and no fetch is
// left in flight when the script throws.
const fetched = await Promise.allSettled([claim.evaluationCid, ...attestationCids].map(fetchJson));
const failed = fetched.find((r) => r.status === 'rejected');
if (failed) throw failed.reason;
const [report, ...attestations] = fetched.map((r) => r.value);

// ---- the evaluation report must be the claim's ----
if (report.format !== 'xai-link-evaluation')
  throw Error(`bad-report: ${claim.evaluationCid} is not an evaluation report`);
const [metric, tokenizerSpec] = metricName.split('@');
const reported = report.result?.scores?.[metric];
if (typeof reported !== 'string' || !/^(0|[1-9][0-9]*)$/.test(reported))
  throw Error(`bad-report: no ${metric} score`);
if (report.model?.cid && report.model.cid !== claim.modelCid)
  throw Error(`report-mismatch: the report evaluates ${report.model.cid}`);
if (tokenizerSpec && `tokenizer:${report.model?.tokenizer?.sha256}` !== tokenizerSpec)
  throw Error('report-mismatch: tokenizer');
const score = BigInt(reported);
if (score !== BigInt(claim.score)) throw Error(`score-mismatch: report ${score}, claim ${claim.score}`);

// ---- each attestation: same claim, a lineage verifier, a valid signature, an agreeing score ----
const digest = attestationDigest();
const counted = new Set();
attestations.forEach((a, i) => {
  const cid = attestationCids[i];
  if (a.format !== 'xai-link-attestation') throw Error(`bad-attestation: ${cid}`);
  const imp = a.improvement ?? {};
  const same =
    BigInt(a.chainId) === chainId &&
    String(a.registry).toLowerCase() === registry &&
    Object.keys(claim).every((k) => (k === 'trainer' ? String(imp[k]).toLowerCase() : imp[k]) === claim[k]);
  if (!same) throw Error(`attestation-mismatch: ${cid} attests another claim`);
  const verifier = String(a.attestation?.verifier).toLowerCase();
  if (!verifiers.has(verifier) || verifier === attestor) throw Error(`unknown-verifier: ${verifier}`);
  if (verifier === claim.trainer) throw Error(`self-attestation: ${verifier}`);
  if (counted.has(verifier)) throw Error(`duplicate-verifier: ${verifier}`);
  if (recoverAddress(digest, String(a.attestation?.signature)) !== verifier)
    throw Error(`bad-signature: ${verifier}`);
  const recomputed = a.recomputed?.score;
  if (recomputed !== undefined && recomputed !== null) {
    const diff = BigInt(recomputed) - score;
    if ((diff < 0n ? -diff : diff) > tolerance)
      throw Error(`score-mismatch: ${verifier} recomputed ${recomputed}`);
  }
  counted.add(verifier);
});
if (counted.size < minSignatures) throw Error(`too-few-signatures: ${counted.size} of ${minSignatures}`);

return concat(word(score), digest, word(counted.size));
