import { useEffect } from 'react';
import type { Settings } from '../../../../shared/api/settings.ts';
import { useSettingsQuery, useUpdateSettingsMutation } from './settingsApi.ts';

/** Light / dark / follow the system; saved in settings so the desktop app and the host agree. */
export function ThemeSwitch() {
  const { data } = useSettingsQuery(undefined);
  const [update] = useUpdateSettingsMutation();
  const theme = data?.theme ?? 'system';

  useEffect(() => {
    document.documentElement.dataset.theme = theme;
  }, [theme]);

  return (
    <label className="theme-switch">
      <span>Theme</span>
      <select value={theme} onChange={(e) => void update({ theme: e.target.value as Settings['theme'] })}>
        <option value="system">System</option>
        <option value="light">Light</option>
        <option value="dark">Dark</option>
      </select>
    </label>
  );
}
