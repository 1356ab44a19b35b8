// Next / previous through a list route's cursor pages: the API gives a next cursor only, so the cursors
// of the pages already seen are kept to go back.
import { useState } from 'preact/hooks';

export interface Pages {
  /** The cursor of the page shown; undefined: the first (newest) page. */
  cursor: string | undefined;
  index: number;
  next(cursor: string): void;
  previous(): void;
}

export function usePages(): Pages {
  const [stack, setStack] = useState<(string | undefined)[]>([undefined]);
  return {
    cursor: stack[stack.length - 1],
    index: stack.length - 1,
    next: (cursor) => setStack((s) => [...s, cursor]),
    previous: () => setStack((s) => (s.length > 1 ? s.slice(0, -1) : s)),
  };
}

export function Pager({ pages, nextCursor, label }: { pages: Pages; nextCursor?: string; label: string }) {
  if (pages.index === 0 && !nextCursor) return null;
  return (
    <nav class="pager actions" aria-label={`${label} pages`}>
      <button type="button" class="secondary" onClick={pages.previous} disabled={pages.index === 0}>
        Previous page
      </button>
      <span>Page {pages.index + 1}</span>
      <button type="button" class="secondary" onClick={() => nextCursor && pages.next(nextCursor)} disabled={!nextCursor}>
        Next page
      </button>
    </nav>
  );
}
