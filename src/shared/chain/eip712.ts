/**
 * The EIP-712 messages of proof of model improvement, defined once for every signer: the contract tests,
 * the CLI (a viem local account) and the renderer (wagmi `signTypedData`). The Solidity side is
 * contracts/src/ImprovementTypes.sol; contracts/test/eip712.test.ts checks both produce the same digests.
 *
 * - The trainer signs an `Improvement` (primary type "Improvement").
 * - Each verifier signs an `Attestation` that wraps the whole Improvement (primary type "Attestation"), so
 *   its wallet shows every field it vouches for, the score included.
 * Both are signed under the registry's domain: name "XAI-Link", version "1", the chain id and the
 * ModelRegistry address, so a signature is valid on one chain and one deployment only.
 */
import { encodeAbiParameters, getAddress, hashTypedData, keccak256 } from 'viem';
import type { Address, Hex } from 'viem';
import { z } from 'zod';

export const EIP712_NAME = 'XAI-Link';
export const EIP712_VERSION = '1';

const improvementFields = [
  { name: 'lineageId', type: 'uint256' },
  { name: 'parentTokenId', type: 'uint256' },
  { name: 'trainer', type: 'address' },
  { name: 'modelCid', type: 'string' },
  { name: 'metadataCid', type: 'string' },
  { name: 'evaluationCid', type: 'string' },
  { name: 'score', type: 'uint64' },
  { name: 'nonce', type: 'uint256' },
  { name: 'deadline', type: 'uint256' },
] as const;

/** Types for signing an Improvement (the trainer). */
export const improvementTypes = { Improvement: improvementFields } as const;

/** Types for signing an Attestation (a verifier). */
export const attestationTypes = {
  Attestation: [{ name: 'claim', type: 'Improvement' }],
  Improvement: improvementFields,
} as const;

/** A trainer's claim, as the contract takes it (`ImprovementTypes.Improvement`). A type, not an interface, so viem accepts it as a typed-data message. */
export type Improvement = {
  lineageId: bigint;
  /** The lineage's current best token, or 0n when the parent is the genesis model. */
  parentTokenId: bigint;
  trainer: Address;
  modelCid: string;
  /** ERC-721 metadata JSON; the token's URI is `ipfs://<metadataCid>`. */
  metadataCid: string;
  evaluationCid: string;
  /** The metric as an unsigned 64-bit integer (see docs/contracts.md, "Scores"). */
  score: bigint;
  /** `ModelRegistry.nonces(trainer)` at signing time. */
  nonce: bigint;
  /** Unix seconds after which the claim can no longer be submitted. */
  deadline: bigint;
};

export type RegistryDomain = {
  name: typeof EIP712_NAME;
  version: typeof EIP712_VERSION;
  chainId: number;
  verifyingContract: Address;
};

export function registryDomain(chainId: number, registry: string): RegistryDomain {
  return { name: EIP712_NAME, version: EIP712_VERSION, chainId, verifyingContract: getAddress(registry) };
}

/** What a trainer signs: pass to viem `account.signTypedData(...)` or wagmi `signTypedData(config, ...)`. */
export function improvementTypedData(domain: RegistryDomain, claim: Improvement) {
  return { domain, types: improvementTypes, primaryType: 'Improvement', message: claim } as const;
}

/** What a verifier signs for `claim`. */
export function attestationTypedData(domain: RegistryDomain, claim: Improvement) {
  return { domain, types: attestationTypes, primaryType: 'Attestation', message: { claim } } as const;
}

/** The digest a trainer signs (equals `ModelRegistry.improvementDigest(claim)`). */
export function improvementDigest(domain: RegistryDomain, claim: Improvement): Hex {
  return hashTypedData(improvementTypedData(domain, claim));
}

/** The digest a verifier signs or passes to `ModelRegistry.attest` (equals `attestationDigest(claim)`). */
export function attestationDigest(domain: RegistryDomain, claim: Improvement): Hex {
  return hashTypedData(attestationTypedData(domain, claim));
}

/** The commitment published before a claim: `keccak256(abi.encode(string modelCid, address trainer, bytes32 salt))`. */
export function commitmentOf(modelCid: string, trainer: Address, salt: Hex): Hex {
  return keccak256(
    encodeAbiParameters(
      [{ type: 'string' }, { type: 'address' }, { type: 'bytes32' }],
      [modelCid, trainer, salt],
    ),
  );
}

/** One verifier's attestation as `claim` takes it; an empty signature ("0x") means "attested on chain". */
export type VerifierSignature = {
  verifier: Address;
  signature: Hex;
};

/** The contract wants attestations sorted by strictly increasing verifier address. */
export function sortAttestations(list: readonly VerifierSignature[]): VerifierSignature[] {
  return [...list].sort((a, b) => {
    const x = BigInt(a.verifier);
    const y = BigInt(b.verifier);
    return x < y ? -1 : x > y ? 1 : 0;
  });
}

// ---- JSON form (claims published to IPFS, CLI files): bigints as decimal strings ----

// abort: a refinement below calls BigInt(), which throws on text that is not a number.
const uintString = z
  .string()
  .regex(/^(0|[1-9][0-9]*)$/, { message: 'an unsigned integer in decimal', abort: true });
const addressString = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'a 0x-prefixed 20-byte address');
const hexString = z.string().regex(/^0x([0-9a-fA-F]{2})*$/, 'a 0x-prefixed hex string');
const cid = z.string().min(1).max(200);

export const improvementJsonSchema = z.strictObject({
  lineageId: uintString,
  parentTokenId: uintString,
  trainer: addressString,
  modelCid: cid,
  metadataCid: cid,
  evaluationCid: cid,
  score: uintString.refine((s) => BigInt(s) < 2n ** 64n, 'score must fit in uint64'),
  nonce: uintString,
  deadline: uintString,
});
export type ImprovementJson = z.infer<typeof improvementJsonSchema>;

export const verifierSignatureJsonSchema = z.strictObject({ verifier: addressString, signature: hexString });

export function improvementToJson(c: Improvement): ImprovementJson {
  return {
    lineageId: c.lineageId.toString(),
    parentTokenId: c.parentTokenId.toString(),
    trainer: c.trainer,
    modelCid: c.modelCid,
    metadataCid: c.metadataCid,
    evaluationCid: c.evaluationCid,
    score: c.score.toString(),
    nonce: c.nonce.toString(),
    deadline: c.deadline.toString(),
  };
}

export function improvementFromJson(j: ImprovementJson): Improvement {
  return {
    lineageId: BigInt(j.lineageId),
    parentTokenId: BigInt(j.parentTokenId),
    trainer: getAddress(j.trainer),
    modelCid: j.modelCid,
    metadataCid: j.metadataCid,
    evaluationCid: j.evaluationCid,
    score: BigInt(j.score),
    nonce: BigInt(j.nonce),
    deadline: BigInt(j.deadline),
  };
}
