import { bridge } from './client.ts';

export interface UploadedFile {
  /** Where the host stored it (under the data directory's tmp/uploads): pass this path to a request. */
  path: string;
  bytes: number;
  name: string;
}

/**
 * Browser file → a path on the machine that runs XAI-Link. On the headless host the file is POSTed to
 * /api/upload (same origin; the access token travels in the host's cookie) with upload progress. In the
 * desktop app the file chooser and drag-and-drop give real files, whose paths the preload resolves.
 */
export function uploadFile(
  file: File,
  onProgress?: (sent: number, total: number) => void,
  signal?: AbortSignal,
): Promise<UploadedFile> {
  if (bridge.pathForFile) {
    // Desktop app: the file is already on this machine; use it where it is.
    const path = bridge.pathForFile(file);
    if (!path)
      return Promise.reject(new Error(`${file.name} has no path on disk; choose a file from a folder.`));
    onProgress?.(file.size, file.size);
    return Promise.resolve({ path, bytes: file.size, name: file.name });
  }
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `/api/upload?name=${encodeURIComponent(file.name)}`);
    xhr.upload.onprogress = (e) => onProgress?.(e.loaded, e.total || file.size);
    xhr.onload = () => {
      let body: { path?: string; bytes?: number; error?: string } = {};
      try {
        body = JSON.parse(xhr.responseText) as typeof body;
      } catch {
        // fall through with an empty body
      }
      if (xhr.status === 200 && body.path)
        resolve({ path: body.path, bytes: body.bytes ?? file.size, name: file.name });
      else reject(new Error(body.error ?? `upload of ${file.name} failed (HTTP ${xhr.status})`));
    };
    xhr.onerror = () => reject(new Error(`upload of ${file.name} failed: the host did not answer`));
    xhr.onabort = () => reject(new DOMException('Upload cancelled', 'AbortError'));
    signal?.addEventListener('abort', () => xhr.abort());
    xhr.send(file);
  });
}
