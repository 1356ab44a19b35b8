// A Vega-Lite chart whose rows may change (a live curve): the view is built once per specification shape
// and only its dataset is swapped when new rows arrive. `data-points` says how many rows are drawn.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { TopLevelSpec } from 'vega-lite';
import type { MountedChart } from '../charts/vega-view.js';

interface Props {
  spec: TopLevelSpec;
  /** The named dataset holding the rows (the spec's `datasets` entry). */
  dataset: string;
  /** What the chart shows, for screen readers and as the figure's caption. */
  caption: string;
  /** Names the chart for tests and styles, e.g. "loss". */
  name: string;
}

/** The spec without its rows: when this does not change, new rows are swapped into the existing view. */
function shapeOf(spec: TopLevelSpec, dataset: string): string {
  const { datasets, ...rest } = spec as TopLevelSpec & { datasets?: Record<string, unknown> };
  return JSON.stringify({ ...rest, datasets: Object.keys(datasets ?? {}).filter((k) => k !== dataset) });
}

export function Chart({ spec, dataset, caption, name }: Props) {
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<Promise<MountedChart> | null>(null);
  const drawnRows = useRef<object[] | null>(null);
  const [drawn, setDrawn] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const rows = ((spec as { datasets?: Record<string, object[]> }).datasets?.[dataset] ?? []) as object[];
  const shape = shapeOf(spec, dataset);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    let cancelled = false;
    const mounted = import('../charts/vega-view.js').then((m) => m.mountChart(el, spec));
    chart.current = mounted;
    drawnRows.current = rows;
    mounted.then(
      () => !cancelled && setDrawn(rows.length),
      (err: Error) => {
        console.error('chart failed', err);
        if (!cancelled) setError(err.message);
      },
    );
    return () => {
      cancelled = true;
      chart.current = null;
      void mounted.then((c) => c.finalize(), () => undefined);
    };
    // Rebuilt only when the shape changes; rows are swapped by the effect below.
  }, [shape]);

  useEffect(() => {
    const current = chart.current;
    if (!current || drawnRows.current === rows) return;
    drawnRows.current = rows;
    let cancelled = false;
    current
      .then((c) => c.update(dataset, rows))
      .then(
        () => !cancelled && setDrawn(rows.length),
        (err: Error) => !cancelled && setError(err.message),
      );
    return () => {
      cancelled = true;
    };
  }, [rows]);

  return (
    <figure class="chart" data-chart={name} data-points={drawn ?? undefined}>
      <div ref={box} class="chart-canvas" role="img" aria-label={caption} />
      <figcaption>{error ? `The chart could not be drawn: ${error}` : caption}</figcaption>
    </figure>
  );
}
