import { CID } from 'multiformats/cid';

/**
 * What users type for IPFS content: a bare CID (`Qm…`, `bafy…`), a CID with a path inside it
 * (`bafy…/train.bin`), an IPFS path (`/ipfs/bafy…/train.bin`) or an `ipfs://` URL.
 */
export interface IpfsPath {
  /** The root CID in its canonical string form (base58btc for v0, base32 for v1). */
  cid: string;
  /** Path below the root without leading or trailing slashes; '' for the root itself. */
  path: string;
}

export class InvalidIpfsPathError extends Error {
  constructor(input: string, why: string) {
    super(`"${input.length > 120 ? `${input.slice(0, 117)}...` : input}" is not an IPFS CID or path: ${why}`);
    this.name = 'InvalidIpfsPathError';
  }
}

/** Parses a CID or IPFS path; throws InvalidIpfsPathError saying what is wrong. */
export function parseIpfsPath(input: string): IpfsPath {
  let rest = input.trim();
  if (rest.startsWith('ipfs://')) rest = rest.slice('ipfs://'.length);
  else if (rest.startsWith('/ipfs/')) rest = rest.slice('/ipfs/'.length);
  const slash = rest.indexOf('/');
  const root = slash === -1 ? rest : rest.slice(0, slash);
  const sub = slash === -1 ? '' : rest.slice(slash + 1);
  if (root === '') throw new InvalidIpfsPathError(input, 'it is empty');
  let cid: CID;
  try {
    cid = CID.parse(root);
  } catch (e) {
    throw new InvalidIpfsPathError(input, (e as Error).message);
  }
  const parts = sub.split('/').filter((p) => p !== '');
  if (parts.some((p) => p === '.' || p === '..'))
    throw new InvalidIpfsPathError(input, 'a path inside a CID cannot contain "." or ".."');
  return { cid: cid.toString(), path: parts.join('/') };
}

export function formatIpfsPath(p: IpfsPath): string {
  return p.path === '' ? p.cid : `${p.cid}/${p.path}`;
}

export function isCid(input: string): boolean {
  try {
    CID.parse(input);
    return true;
  } catch {
    return false;
  }
}
