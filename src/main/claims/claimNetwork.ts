import { getAddress, type Address, type Hex } from 'viem';
import { modelRegistryAbi } from '../../../contracts/generated/index.ts';
import { ApiError } from '../../shared/api/errors.ts';
import type { ClaimNetworkStatus, RemoteVerdict } from '../../shared/api/verifierNetwork.ts';
import { attestationDigest, improvementFromJson } from '../../shared/chain/eip712.ts';
import type { SignerSpec } from '../../shared/claims/signer.ts';
import type { ChainAccess } from './chainAccess.ts';
import type { ClaimsService } from './claimsService.ts';

/**
 * The trainer's side of the network flow: announce a signed claim on chain so that the lineage's verifiers
 * find it, and read their answers back from the chain (on-chain attestations, refusals with reasons).
 * Nothing is sent outside the protocol: verifiers need no address of the trainer, only the chain and IPFS.
 */
export class ClaimNetwork {
  readonly #claims: () => ClaimsService;
  readonly #chain: ChainAccess;

  constructor(opts: { claims: () => ClaimsService; chain: ChainAccess }) {
    this.#claims = opts.claims;
    this.#chain = opts.chain;
  }

  async #signed(id: string) {
    const c = this.#claims().get(id);
    if (!c.improvement || !c.claimCid)
      throw new ApiError('FAILED_PRECONDITION', `claim ${id} is not signed and published yet`, {
        hint: 'Sign the claim first (xai-link claim new …, or the claim wizard).',
      });
    const improvement = improvementFromJson(c.improvement);
    const digest = attestationDigest(await this.#chain.domain(), improvement);
    return { c, improvement, digest, claimCid: c.claimCid };
  }

  async #events(
    eventName: 'VerificationRequested' | 'AttestationApproved' | 'VerificationDeclined',
    args: object,
  ) {
    const info = await this.#chain.info();
    const client = await this.#chain.client();
    return client.getContractEvents({
      address: info.registry as Address,
      abi: modelRegistryAbi,
      eventName,
      args,
      fromBlock: BigInt(info.deployBlock),
    } as never) as unknown as Promise<
      { args: Record<string, unknown>; blockNumber: bigint; transactionHash: Hex }[]
    >;
  }

  /** Sends `requestVerification` unless this claim was announced already (by anyone). */
  async announce(id: string, signer: SignerSpec): Promise<ClaimNetworkStatus> {
    const { c, digest, claimCid } = await this.#signed(id);
    if (c.mint) return this.status(id);
    const before = await this.#events('VerificationRequested', {
      lineageId: BigInt(c.lineageId),
      attestationDigest: digest,
    });
    if (!before.some((l) => l.args.claimCid === claimCid))
      await this.#chain.requestVerification(BigInt(c.lineageId), digest, claimCid, signer);
    return this.status(id);
  }

  /**
   * What the lineage's verifiers answered, from the chain. On-chain attestations by registered verifiers
   * are added to the claim (an empty signature, as the registry reads them), so `claims.submit` counts them.
   */
  async status(id: string): Promise<ClaimNetworkStatus> {
    const { c, digest, claimCid } = await this.#signed(id);
    const lineage = await this.#chain.chain.lineage(c.lineageId);
    const verifiers = new Set(lineage.verifiers.map((v) => getAddress(v)));
    const [announcements, approvals, declines] = await Promise.all([
      this.#events('VerificationRequested', { lineageId: BigInt(c.lineageId), attestationDigest: digest }),
      this.#events('AttestationApproved', { attestationDigest: digest }),
      this.#events('VerificationDeclined', { lineageId: BigInt(c.lineageId), attestationDigest: digest }),
    ]);
    const announced = announcements.find((l) => l.args.claimCid === claimCid) ?? null;
    const verdicts: RemoteVerdict[] = [];
    const times = new Map<bigint, string>();
    const at = async (block: bigint) => {
      if (!times.has(block)) {
        const b = await (await this.#chain.client()).getBlock({ blockNumber: block });
        times.set(block, new Date(Number(b.timestamp) * 1000).toISOString());
      }
      return times.get(block)!;
    };
    let record = c;
    for (const l of approvals) {
      const verifier = getAddress(l.args.verifier as string);
      if (!verifiers.has(verifier) || getAddress(verifier) === getAddress(c.trainer)) continue;
      verdicts.push({
        verifier,
        kind: 'attested-on-chain',
        reason: null,
        blockNumber: Number(l.blockNumber),
        at: await at(l.blockNumber),
        txHash: l.transactionHash,
      });
      if (!record.mint && !record.attestations.some((a) => getAddress(a.verifier) === verifier))
        record = await this.#claims().addAttestation(id, { verifier, signature: '0x' });
    }
    for (const l of declines) {
      const verifier = getAddress(l.args.verifier as string);
      if (!verifiers.has(verifier)) continue;
      verdicts.push({
        verifier,
        kind: 'declined',
        reason: String(l.args.reason),
        blockNumber: Number(l.blockNumber),
        at: await at(l.blockNumber),
        txHash: l.transactionHash,
      });
    }
    for (const a of record.attestations) {
      if (a.signature === '0x' || verdicts.some((v) => v.verifier === getAddress(a.verifier))) continue;
      verdicts.push({
        verifier: getAddress(a.verifier),
        kind: 'signed',
        reason: null,
        blockNumber: null,
        at: null,
        txHash: null,
      });
    }
    return {
      claimId: id,
      claimCid,
      attestationDigest: digest,
      announced: announced
        ? { txHash: announced.transactionHash, blockNumber: Number(announced.blockNumber) }
        : null,
      quorum: lineage.quorum,
      attestations: record.attestations.length,
      verdicts,
      minted: record.mint ? { tokenId: record.mint.tokenId, txHash: record.mint.txHash as Hex } : null,
    };
  }
}
