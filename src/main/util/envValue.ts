/**
 * A variable of the environment by a name the caller chose: only the environment's own keys count, so a
 * name such as "constructor" or "__proto__" reads as unset instead of reaching Object.prototype.
 */
export function envValue(env: NodeJS.ProcessEnv, name: string): string | undefined {
  if (!Object.hasOwn(env, name)) return undefined;
  const value = env[name];
  return typeof value === 'string' ? value : undefined;
}
