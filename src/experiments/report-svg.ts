// Vega-Lite specifications rendered to SVG on the server: compiled by vega-lite, run by a headless Vega
// view (no canvas, no DOM). The same specifications the dashboard renders in the browser.
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** Width of every report chart, in pixels (a server has no container to fit). */
export const REPORT_CHART_WIDTH = 860;

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  try {
    await view.runAsync();
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
