/**
 * The Electron entry: one window over the same services the headless host and the CLI use.
 * Everything here is about the shell (window, IPC, security); the app's logic lives in the services.
 */
import { app, BrowserWindow, ipcMain, session, shell } from 'electron';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { IPC_EVENT_CHANNEL, IPC_INVOKE_CHANNEL } from '../shared/api/wire.ts';
import {
  appUrlMatcher,
  applyContentSecurityPolicy,
  ipcSenderRefusal,
  lockNavigation,
} from './electron/security.ts';
import { createAppCore } from './rpc/localClient.ts';
import { resolveDataDirPath } from './services/dataDir.ts';
import { createServices } from './services/services.ts';
import { useBundledEntries } from './util/entryPath.ts';

const here = dirname(fileURLToPath(import.meta.url));
useBundledEntries(here);

function argValue(flag: string): string | undefined {
  const i = process.argv.indexOf(flag);
  if (i >= 0) return process.argv[i + 1];
  return process.argv.find((a) => a.startsWith(`${flag}=`))?.slice(flag.length + 1);
}

const dataDir = resolveDataDirPath(argValue('--data-dir'));
app.setPath('userData', dataDir);

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  const services = createServices({
    dataDir,
    entryPoint: 'electron',
    runtime: { electron: process.versions.electron ?? null, chromium: process.versions.chrome ?? null },
  });
  const core = createAppCore(services);
  const devServerUrl = process.env.ELECTRON_RENDERER_URL;
  const rendererIndex = join(here, '../renderer/index.html');
  const isAppUrl = appUrlMatcher({ devServerUrl, rendererIndexUrl: pathToFileURL(rendererIndex).href });
  let mainWindow: BrowserWindow | null = null;

  // Only our own page may call the API: a frame from anywhere else (there should be none) is refused.
  ipcMain.handle(
    IPC_INVOKE_CHANNEL,
    (event, method: unknown, params: unknown) =>
      ipcSenderRefusal(event.senderFrame?.url, isAppUrl) ??
      core.dispatcher.invoke(method, params, { entryPoint: 'electron' }),
  );
  services.events.subscribe((event, payload) => {
    if (mainWindow && !mainWindow.isDestroyed())
      mainWindow.webContents.send(IPC_EVENT_CHANNEL, event, payload);
  });

  app.on('web-contents-created', (_event, contents) =>
    lockNavigation(contents, isAppUrl, (url) => shell.openExternal(url)),
  );

  const createWindow = (): void => {
    mainWindow = new BrowserWindow({
      width: 1280,
      height: 820,
      minWidth: 1024,
      minHeight: 700,
      show: false,
      title: 'XAI-Link',
      icon: join(here, '../../resources/icon.png'),
      autoHideMenuBar: true,
      webPreferences: {
        preload: join(here, '../preload/index.cjs'),
        contextIsolation: true,
        sandbox: true,
        nodeIntegration: false,
        nodeIntegrationInWorker: false,
        webSecurity: true,
        allowRunningInsecureContent: false,
        webviewTag: false,
        spellcheck: false,
        // Middle-click would otherwise open links in a new window, around the navigation lock.
        disableBlinkFeatures: 'Auxclick',
      },
    });
    mainWindow.once('ready-to-show', () => mainWindow?.show());
    mainWindow.on('closed', () => (mainWindow = null));
    if (devServerUrl) void mainWindow.loadURL(devServerUrl);
    else void mainWindow.loadFile(rendererIndex);
  };

  app.on('second-instance', () => {
    if (mainWindow) {
      if (mainWindow.isMinimized()) mainWindow.restore();
      mainWindow.focus();
    }
  });

  void app.whenReady().then(() => {
    applyContentSecurityPolicy(session.defaultSession);
    createWindow();
    app.on('activate', () => {
      if (BrowserWindow.getAllWindows().length === 0) createWindow();
    });
  });

  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });

  // Services stop cleanly (training checkpointed, chain state saved, IPFS closed) before the app exits.
  let quitting = false;
  app.on('before-quit', (event) => {
    if (quitting) return;
    quitting = true;
    event.preventDefault();
    void services.dispose().finally(() => app.exit(0));
  });
}
