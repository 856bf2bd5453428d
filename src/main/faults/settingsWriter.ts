/**
 * A child process for the crash matrix: saves settings over and over through the real SettingsService and
 * prints "ack N" once save N has resolved (that is, once the app would have told the user it is saved).
 * Usage: node settingsWriter.ts <settings.json>
 */
import { SettingsService } from '../settings/settingsService.ts';

const file = process.argv[2];
if (!file) throw new Error('usage: settingsWriter.ts <settings.json>');
const settings = new SettingsService(file);
for (let n = 1; ; n++) {
  // The WalletConnect project id is free text: the counter travels in it.
  await settings.update({ walletConnectProjectId: `save-${n}`, theme: n % 2 ? 'dark' : 'light' });
  process.stdout.write(`ack ${n}\n`);
}
