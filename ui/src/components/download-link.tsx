// A real link to an API file that, when clicked, downloads it with the tab's API key.
import type { ComponentChildren } from 'preact';
import { download } from '../api/download.js';

interface Props {
  href: string;
  /** File name when the server does not give one. */
  fileName: string;
  children: ComponentChildren;
  label?: string;
  onError(error: unknown): void;
}

export function DownloadLink({ href, fileName, children, label, onError }: Props) {
  const click = (e: MouseEvent) => {
    // A modified click (new tab, save link) is the browser's business.
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    download(href, fileName).catch(onError);
  };
  return (
    <a href={href} onClick={click} aria-label={label} download={fileName}>
      {children}
    </a>
  );
}
