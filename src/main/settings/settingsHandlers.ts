import type { settingsRequests } from '../../shared/api/settings.ts';
import type { HandlersFor } from '../rpc/dispatcher.ts';
import type { SettingsService } from './settingsService.ts';

export function settingsHandlers(settings: SettingsService): HandlersFor<typeof settingsRequests> {
  return {
    'settings.get': () => settings.get(),
    'settings.update': ({ patch }) => settings.update(patch),
  };
}
