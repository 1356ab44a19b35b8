// Downloads through the API key: a plain link cannot send an Authorization header, so the file is fetched
// with it and handed to the browser as a blob. The link keeps the real URL (copy, open in a new tab).
import { apiErrorOf, send } from './client.js';

function fileNameOf(res: Response, fallback: string): string {
  const disposition = res.headers.get('content-disposition') ?? '';
  const match = /filename="([^"]+)"/.exec(disposition);
  return match ? match[1] : fallback;
}

export async function download(url: string, fallbackName: string): Promise<void> {
  const res = await send(url);
  if (!res.ok) throw await apiErrorOf(res);
  const blob = await res.blob();
  const href = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = href;
  a.download = fileNameOf(res, fallbackName);
  document.body.append(a);
  a.click();
  a.remove();
  // The click has handed the blob to the download manager; the URL is not needed after this task.
  setTimeout(() => URL.revokeObjectURL(href), 0);
}
