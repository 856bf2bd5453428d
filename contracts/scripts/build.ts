/**
 * `npm run build:contracts`: compiles contracts/src and writes contracts/generated (ABIs and bytecode as
 * TypeScript `as const` exports, so viem infers every function's types). The generated files are committed;
 * `--check` compiles and fails if they differ from what is committed (the contract tests run it).
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GENERATED_DIR, MAX_RUNTIME_BYTES, compileContracts, renderGenerated } from './compile.ts';

const check = process.argv.includes('--check');
const started = performance.now();
const result = compileContracts();
for (const w of result.warnings) console.warn(w);
const tooBig = result.contracts.filter((c) => c.runtimeBytes > MAX_RUNTIME_BYTES);
for (const c of result.contracts)
  console.log(`${c.name.padEnd(22)} ${String(c.runtimeBytes).padStart(6)} bytes runtime`);
if (tooBig.length > 0) {
  console.error(`Over the ${MAX_RUNTIME_BYTES}-byte EIP-170 limit: ${tooBig.map((c) => c.name).join(', ')}`);
  process.exit(1);
}
const files = renderGenerated(result);
const existing = existsSync(GENERATED_DIR) ? readdirSync(GENERATED_DIR).filter((f) => f.endsWith('.ts')) : [];
if (check) {
  const stale = [...files].filter(
    ([name, text]) =>
      !existsSync(join(GENERATED_DIR, name)) || readFileSync(join(GENERATED_DIR, name), 'utf8') !== text,
  );
  const extra = existing.filter((f) => !files.has(f));
  if (stale.length > 0 || extra.length > 0) {
    console.error(
      `contracts/generated is out of date (${[...stale.map(([n]) => n), ...extra].join(', ')}): run npm run build:contracts`,
    );
    process.exit(1);
  }
  console.log(
    `contracts/generated is up to date (solc ${result.solcVersion}, ${Math.round(performance.now() - started)} ms)`,
  );
} else {
  mkdirSync(GENERATED_DIR, { recursive: true });
  for (const f of existing) if (!files.has(f)) rmSync(join(GENERATED_DIR, f));
  for (const [name, text] of files) writeFileSync(join(GENERATED_DIR, name), text);
  console.log(
    `wrote ${files.size} files to contracts/generated (solc ${result.solcVersion}, ${Math.round(performance.now() - started)} ms)`,
  );
}
