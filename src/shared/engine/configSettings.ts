/**
 * `--set model.nLayer=6 --set train.learningRate=3e-4`: one configuration field per setting, shared by
 * `xai-link train` and `npm run bench:train`. Values are numbers, true/false, or strings; the run
 * configuration's schema validates them later, with its own messages.
 */
export type ConfigSettings = Record<`${'model' | 'train'}.${string}`, unknown>;

export class ConfigSettingError extends Error {}

export function parseConfigSetting(value: string, prev: ConfigSettings = {}): ConfigSettings {
  const m = /^(model|train)\.(\w+)=(.*)$/.exec(value);
  if (!m) throw new ConfigSettingError(`"${value}": use model.<field>=<value> or train.<field>=<value>`);
  const raw = m[3]!;
  const v: unknown =
    raw === 'true'
      ? true
      : raw === 'false'
        ? false
        : raw !== '' && Number.isFinite(Number(raw))
          ? Number(raw)
          : raw;
  return { ...prev, [`${m[1]}.${m[2]}`]: v } as ConfigSettings;
}

/** Writes each setting into the model or train overrides. */
export function applyConfigSettings(
  settings: ConfigSettings,
  target: { model: Record<string, unknown>; train: Record<string, unknown> },
): void {
  for (const [k, v] of Object.entries(settings)) {
    const [group, field] = k.split('.') as ['model' | 'train', string];
    target[group][field] = v;
  }
}
