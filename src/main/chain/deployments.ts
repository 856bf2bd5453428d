/**
 * Deploying the contracts and remembering where they are, per chain id:
 * `<dataDir>/chain/deployments/<chainId>.json` (this user's deployments, the embedded chain's included) and,
 * for public networks, `contracts/deployments/<chainId>.json` in a source checkout (shipped with the app).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  getAddress,
  keccak256,
  type Account,
  type Address,
  type Chain,
  type PublicClient,
  type Transport,
  type WalletClient,
} from 'viem';
import {
  contractsBuildInfo,
  licenseMarketAbi,
  licenseMarketBytecode,
  modelRegistryAbi,
  modelRegistryBytecode,
} from '../../../contracts/generated/index.ts';
import { deploymentSchema, EMBEDDED_CHAIN_ID, type Deployment } from '../../shared/chain/deployment.ts';
import { appRoot } from '../util/appRoot.ts';
import { writeJsonAtomic } from '../util/atomicWrite.ts';

/**
 * contracts/deployments of the app: the records shipped with it (read), and in a source checkout the place a
 * deploy to a public network is recorded for the repository. Absent in a packaged app without them: fine.
 */
export const REPO_DEPLOYMENTS_DIR = join(
  appRoot() ?? '/nonexistent-xai-link-root',
  'contracts',
  'deployments',
);

export const REGISTRY_CODE_HASH = keccak256(modelRegistryBytecode);
export const MARKET_CODE_HASH = keccak256(licenseMarketBytecode);

export class DeploymentStore {
  readonly #userDir: string;
  readonly #repoDir: string;

  constructor(userDir: string, repoDir: string = REPO_DEPLOYMENTS_DIR) {
    this.#userDir = userDir;
    this.#repoDir = repoDir;
  }

  /** The user's record wins over the repository's. */
  find(chainId: number): Deployment | null {
    for (const dir of [this.#userDir, this.#repoDir]) {
      const file = join(dir, `${chainId}.json`);
      if (!existsSync(file)) continue;
      const parsed = deploymentSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
      if (!parsed.success)
        throw new Error(`${file} is not a valid deployment record: ${parsed.error.message}`);
      return parsed.data;
    }
    return null;
  }

  async save(d: Deployment, opts: { inRepo: boolean }): Promise<string[]> {
    const written = [join(this.#userDir, `${d.chainId}.json`)];
    if (opts.inRepo && d.chainId !== EMBEDDED_CHAIN_ID && existsSync(this.#repoDir))
      written.push(join(this.#repoDir, `${d.chainId}.json`));
    for (const file of written) await writeJsonAtomic(file, d);
    return written;
  }
}

/** Deploys ModelRegistry then LicenseMarket(registry) and waits for both receipts. */
export async function deployContracts(
  publicClient: PublicClient,
  wallet: WalletClient<Transport, Chain, Account>,
): Promise<Deployment> {
  const chainId = await publicClient.getChainId();
  const registryTx = await wallet.deployContract({ abi: modelRegistryAbi, bytecode: modelRegistryBytecode });
  const registryReceipt = await publicClient.waitForTransactionReceipt({ hash: registryTx });
  if (registryReceipt.status !== 'success' || !registryReceipt.contractAddress)
    throw new Error(`ModelRegistry deployment failed (${registryTx})`);
  const registry = registryReceipt.contractAddress;
  const marketTx = await wallet.deployContract({
    abi: licenseMarketAbi,
    bytecode: licenseMarketBytecode,
    args: [registry],
  });
  const marketReceipt = await publicClient.waitForTransactionReceipt({ hash: marketTx });
  if (marketReceipt.status !== 'success' || !marketReceipt.contractAddress)
    throw new Error(`LicenseMarket deployment failed (${marketTx})`);
  return {
    chainId,
    registry: getAddress(registry),
    market: getAddress(marketReceipt.contractAddress),
    deployBlock: registryReceipt.blockNumber.toString(),
    deployer: wallet.account.address,
    deployedAt: new Date().toISOString(),
    solcVersion: contractsBuildInfo.solcVersion,
    registryCodeHash: REGISTRY_CODE_HASH,
    marketCodeHash: MARKET_CODE_HASH,
  };
}

/** Whether both contracts of a record have code on the chain (a reset chain has none). */
export async function isDeployed(publicClient: PublicClient, d: Deployment): Promise<boolean> {
  const [a, b] = await Promise.all([
    publicClient.getCode({ address: d.registry as Address }),
    publicClient.getCode({ address: d.market as Address }),
  ]);
  return !!a && a !== '0x' && !!b && b !== '0x';
}

export function isUpToDate(d: Deployment): boolean {
  return d.registryCodeHash === REGISTRY_CODE_HASH && d.marketCodeHash === MARKET_CODE_HASH;
}
