/**
 * Electron security review with Doyensec's Electronegativity over the code that configures Electron:
 * src/main, src/preload and the renderer's HTML (for the CSP). Fails on any HIGH-severity finding,
 * or when one of the Electron files could not be analysed (a check that cannot read the code proves nothing).
 *
 *   npm run test:security
 */
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface Finding {
  file: string;
  id: string;
  description: string;
  severity: { value: number; name: string };
  confidence: { name: string };
  location: { line: number; column: number };
}
interface Result {
  issues: Finding[];
  errors: { file: string; message: string }[];
}

const require = createRequire(import.meta.url);
const run = require('@doyensec/electronegativity/dist/runner.js') as (
  opts: object,
  forCli: boolean,
) => Promise<Result>;
const electronVersion = (
  JSON.parse(readFileSync('node_modules/electron/package.json', 'utf8')) as { version: string }
).version;

const work = mkdtempSync(join(tmpdir(), 'xai-eneg-'));
try {
  cpSync('src/main', join(work, 'main'), { recursive: true, filter: (p) => !p.endsWith('.test.ts') });
  cpSync('src/preload', join(work, 'preload'), { recursive: true });
  cpSync('src/renderer/index.html', join(work, 'renderer/index.html'));

  const result = await run(
    {
      input: work,
      output: null,
      isSarif: false,
      customScan: [],
      excludeFromScan: [],
      isRelative: true,
      electronVersionOverride: electronVersion,
      parserPlugins: [],
    },
    false,
  );

  const electronFiles = /(^|\/)(main\/index\.ts|main\/electron\/|preload\/)/;
  const unreadable = result.errors.filter((e) => electronFiles.test(e.file.replace(work, '')));
  const high = result.issues.filter((i) => i.severity.value >= 3);
  for (const issue of result.issues) {
    const where =
      issue.file === 'N/A' ? 'whole app' : `${issue.file.replace(`${work}/`, 'src/')}:${issue.location.line}`;
    console.log(
      `${issue.severity.name.padEnd(6)} ${issue.confidence.name.padEnd(9)} ${issue.id.padEnd(36)} ${where}  ${issue.description}`,
    );
  }
  const skipped = result.errors.length - unreadable.length;
  if (skipped > 0)
    console.log(
      `(${skipped} non-Electron file(s) used syntax the analyser does not parse; they configure no Electron API)`,
    );
  for (const e of unreadable) console.error(`could not analyse ${e.file}: ${e.message}`);
  console.log(
    `electronegativity (Electron ${electronVersion}): ${result.issues.length} finding(s), ${high.length} high`,
  );
  if (high.length > 0 || unreadable.length > 0) process.exitCode = 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}
