import { readFile, rename } from 'node:fs/promises';
import { settingsSchema, type Settings } from '../../shared/api/settings.ts';
import { writeJsonAtomic } from '../util/atomicWrite.ts';

/**
 * settings.json in the data directory. A file that is not valid JSON or breaks the schema is kept
 * aside as settings.json.broken-<time> (never silently lost) and defaults are used instead.
 */
export class SettingsService {
  readonly #file: string;
  #cache: Settings | undefined;
  #writing: Promise<unknown> = Promise.resolve();

  constructor(file: string) {
    this.#file = file;
  }

  async get(): Promise<Settings> {
    if (this.#cache) return this.#cache;
    let raw: string;
    try {
      raw = await readFile(this.#file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      this.#cache = settingsSchema.parse({});
      return this.#cache;
    }
    try {
      this.#cache = settingsSchema.parse(JSON.parse(raw));
    } catch (e) {
      const aside = `${this.#file}.broken-${Date.now()}`;
      await rename(this.#file, aside);
      console.warn(
        `settings.json was unreadable (${(e as Error).message}); kept it as ${aside} and used defaults`,
      );
      this.#cache = settingsSchema.parse({});
    }
    return this.#cache;
  }

  async update(patch: Partial<Settings>): Promise<Settings> {
    // Updates are serialised so two quick changes cannot overwrite each other.
    const next = this.#writing.then(async () => {
      const merged = settingsSchema.parse({ ...(await this.get()), ...patch });
      await writeJsonAtomic(this.#file, merged);
      this.#cache = merged;
      return merged;
    });
    this.#writing = next.catch(() => undefined);
    return next;
  }
}
