// Renders a Vega-Lite specification to SVG in the page, under the dashboard's CSP: Vega compiles its
// expressions with `new Function` unless it is given an AST and the expression interpreter, so it is.
// Loaded on demand (a separate chunk): the chart engine is most of the bundle and only some pages need it.
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { expressionInterpreter } from 'vega-interpreter';

export interface MountedChart {
  /** Replaces the rows of a named dataset and re-renders. */
  update(dataset: string, rows: readonly object[]): Promise<void>;
  finalize(): void;
}

export async function mountChart(container: HTMLElement, spec: TopLevelSpec): Promise<MountedChart> {
  const runtime = parse(compile(spec).spec, undefined, { ast: true });
  const view = new View(runtime, { expr: expressionInterpreter, renderer: 'svg', container, hover: true });
  await view.runAsync();
  return {
    async update(dataset, rows) {
      view.data(dataset, rows as object[]);
      await view.resize().runAsync();
    },
    finalize: () => view.finalize(),
  };
}
