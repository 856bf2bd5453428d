import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { entryPath } from './entryPath.ts';

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? sourceFiles(join(dir, e.name))
      : e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')
        ? [join(dir, e.name)]
        : [],
  );
}

describe('entryPath', () => {
  it('every file started in its own thread or process exists and is an entry of the desktop build', () => {
    const names = new Set<string>();
    for (const file of sourceFiles('src/main')) {
      for (const m of readFileSync(file, 'utf8').matchAll(/entryPath\('([^']+)'\)/g)) names.add(m[1]!);
    }
    expect(names.size).toBeGreaterThanOrEqual(3);
    const config = readFileSync('electron.vite.config.ts', 'utf8');
    for (const name of names) {
      expect(existsSync(entryPath(name)), `${name}.ts exists`).toBe(true);
      expect(config, `electron.vite.config.ts lists ${name}`).toContain(
        `'${name.replaceAll('/', '-')}': 'src/main/${name}.ts'`,
      );
    }
  });
});
