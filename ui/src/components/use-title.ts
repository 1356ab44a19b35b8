import { useEffect } from 'preact/hooks';

/** The tab's title: the page, then the service. */
export function useTitle(title: string): void {
  useEffect(() => {
    document.title = `${title} · bn-service`;
  }, [title]);
}
