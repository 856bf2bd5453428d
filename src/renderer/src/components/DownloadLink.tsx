import { inElectron } from '../api/client.ts';

/**
 * In a browser on the headless host, a file the host wrote to its exports/ folder is on the host's disk,
 * maybe another machine: this link downloads it (the host serves only that folder). The desktop app
 * needs none: the file is already on this machine.
 */
export function DownloadLink({ path, label = 'Download' }: { path: string; label?: string }) {
  if (inElectron) return null;
  const name = path.split(/[\\/]/).pop() ?? 'download';
  return (
    <a
      className="button secondary small-button"
      href={`/api/download?path=${encodeURIComponent(path)}`}
      download={name}
    >
      {label}
    </a>
  );
}
