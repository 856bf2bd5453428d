/**
 * Compiles contracts/src with npm's solc (the WebAssembly build shipped in the package: no compiler
 * download) and returns each deployable contract's ABI and bytecode. Used by build.ts (which writes
 * contracts/generated) and by the test that checks the generated files are up to date.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import solc from 'solc';

export const CONTRACTS_DIR = dirname(dirname(fileURLToPath(import.meta.url)));
export const REPO_ROOT = dirname(CONTRACTS_DIR);
export const SOURCES_DIR = join(CONTRACTS_DIR, 'src');
export const GENERATED_DIR = join(CONTRACTS_DIR, 'generated');

/** The EVM version every contract is compiled for (OpenZeppelin 5.7 uses `mcopy`, so at least Cancun). */
export const EVM_VERSION = 'cancun';
/** EIP-170: the largest runtime code a chain accepts. */
export const MAX_RUNTIME_BYTES = 24_576;

export const compilerSettings = {
  optimizer: { enabled: true, runs: 200 },
  evmVersion: EVM_VERSION,
  // No metadata hash in the bytecode: the output depends on the code, not on comments or paths.
  metadata: { bytecodeHash: 'none' },
  outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
} as const;

export interface CompiledContract {
  readonly name: string;
  /** Source unit name, e.g. `src/ModelRegistry.sol`. */
  readonly source: string;
  readonly abi: readonly unknown[];
  readonly bytecode: `0x${string}`;
  readonly runtimeBytes: number;
}

export interface CompileResult {
  readonly solcVersion: string;
  readonly contracts: CompiledContract[];
  readonly warnings: string[];
}

interface SolcMessage {
  severity: 'error' | 'warning' | 'info';
  formattedMessage: string;
}
interface SolcOutput {
  errors?: SolcMessage[];
  contracts?: Record<
    string,
    Record<
      string,
      { abi: unknown[]; evm: { bytecode: { object: string }; deployedBytecode: { object: string } } }
    >
  >;
}

function listSources(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listSources(path));
    else if (entry.name.endsWith('.sol')) out.push(path);
  }
  return out.sort();
}

const require = createRequire(import.meta.url);

function findImport(path: string): { contents: string } | { error: string } {
  try {
    if (path.startsWith('@')) return { contents: readFileSync(require.resolve(path), 'utf8') };
    return { contents: readFileSync(join(CONTRACTS_DIR, path), 'utf8') };
  } catch (e) {
    return { error: `cannot read ${path}: ${(e as Error).message}` };
  }
}

/** Compiles every .sol file under contracts/src; throws with solc's messages on any error. */
export function compileContracts(): CompileResult {
  const sources: Record<string, { content: string }> = {};
  for (const file of listSources(SOURCES_DIR)) {
    sources[relative(CONTRACTS_DIR, file).split(sep).join('/')] = { content: readFileSync(file, 'utf8') };
  }
  const input = { language: 'Solidity', sources, settings: compilerSettings };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImport })) as SolcOutput;
  const messages = output.errors ?? [];
  const errors = messages.filter((m) => m.severity === 'error');
  if (errors.length > 0) throw new Error(`solc failed:\n${errors.map((m) => m.formattedMessage).join('\n')}`);
  const contracts: CompiledContract[] = [];
  for (const source of Object.keys(sources)) {
    for (const [name, c] of Object.entries(output.contracts?.[source] ?? {})) {
      if (c.evm.bytecode.object === '' || c.abi.length === 0) continue; // interfaces, abstract contracts, libraries
      if (c.evm.bytecode.object.includes('__$'))
        throw new Error(`${name} needs library linking, which is not supported`);
      contracts.push({
        name,
        source,
        abi: c.abi,
        bytecode: `0x${c.evm.bytecode.object}`,
        runtimeBytes: c.evm.deployedBytecode.object.length / 2,
      });
    }
  }
  contracts.sort((a, b) => a.name.localeCompare(b.name));
  return {
    solcVersion: String(solc.version()),
    contracts,
    // Warnings about our own sources only (not about OpenZeppelin's).
    warnings: messages
      .filter((m) => m.severity === 'warning' && !m.formattedMessage.includes('@openzeppelin/'))
      .map((m) => m.formattedMessage),
  };
}

/** `ModelRegistry` → `modelRegistry`, `ERC1271Verifier` → `erc1271Verifier`. */
function camelCase(name: string): string {
  return name.replace(/^[A-Z]+(?=[A-Z][a-z])|^[A-Z]+/, (m) => m.toLowerCase());
}

/** The generated TypeScript files, by file name (relative to contracts/generated). */
export function renderGenerated(result: CompileResult): Map<string, string> {
  const files = new Map<string, string>();
  const header =
    '// Generated by contracts/scripts/build.ts (`npm run build:contracts`) from contracts/src. Do not edit.\n';
  for (const c of result.contracts) {
    const id = camelCase(c.name);
    files.set(
      `${c.name}.ts`,
      `${header}// Source: contracts/${c.source}\n\n` +
        `export const ${id}Abi = ${JSON.stringify(c.abi, null, 2)} as const;\n\n` +
        `export const ${id}Bytecode = '${c.bytecode}' as const;\n`,
    );
  }
  const index =
    header +
    '\n' +
    result.contracts.map((c) => `export * from './${c.name}.ts';\n`).join('') +
    `\nexport const contractsBuildInfo = ${JSON.stringify(
      {
        solcVersion: result.solcVersion,
        evmVersion: EVM_VERSION,
        optimizerRuns: compilerSettings.optimizer.runs,
      },
      null,
      2,
    )} as const;\n`;
  files.set('index.ts', index);
  // FunctionsAttestor (issue 8): the Chainlink Functions source it uploads, so the app deploys it without
  // reading contracts/functions at run time (a packaged app has no such folder).
  files.set('functionsSource.ts', renderFunctionsSource());
  return files;
}

/** contracts/functions/attestClaim.js: the JavaScript FunctionsAttestor's requests run on the DON. */
export const FUNCTIONS_SOURCE_FILE = join(CONTRACTS_DIR, 'functions', 'attestClaim.js');

function renderFunctionsSource(): string {
  const source = readFileSync(FUNCTIONS_SOURCE_FILE, 'utf8');
  return (
    '// Generated by contracts/scripts/build.ts (`npm run build:contracts`) from contracts/functions/attestClaim.js. Do not edit.\n\n' +
    '/** The Chainlink Functions source FunctionsAttestor.setSource uploads (see docs/chainlink.md). */\n' +
    `export const attestClaimSource = ${JSON.stringify(source)};\n`
  );
}
