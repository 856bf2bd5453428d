import { envValue } from './envValue.ts';

/**
 * A setting read from an environment variable that takes one of a few words: unset or empty gives the first (the
 * default); anything else not listed is an error that names what is accepted, rather than a silent default.
 */
export function envChoice<T extends string>(
  env: NodeJS.ProcessEnv,
  name: string,
  choices: readonly [T, ...T[]],
): T {
  const v = envValue(env, name);
  if (v === undefined || v === '') return choices[0];
  if ((choices as readonly string[]).includes(v)) return v as T;
  throw new Error(`${name}=${v}: use ${choices.slice(0, -1).join(', ')} or ${choices[choices.length - 1]}`);
}
