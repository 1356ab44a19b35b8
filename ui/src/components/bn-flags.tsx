// The collapse warnings of the BN panel: units whose moving variance went to (almost) zero, which makes
// inference divide by √ε alone, or whose γ did, which switches the unit off. Read from the latest epoch's
// `collapsed` lists (thresholds: COLLAPSE_THRESHOLDS of the API's schema).
import { COLLAPSE_THRESHOLDS } from '../../../src/schemas/bn-stats.js';
import type { BnStatsEpoch } from '../api/bn-stats.js';

export interface CollapseFlag {
  layer: number;
  units: number;
  kind: 'movingVariance' | 'gamma';
  /** Unit indices as the API lists them (at most 64 of each). */
  collapsed: number[];
}

/** Every non-empty `collapsed` list of an epoch, layer by layer, moving variance first. */
export function collapseFlags(epoch: BnStatsEpoch | undefined): CollapseFlag[] {
  const out: CollapseFlag[] = [];
  for (const l of epoch?.layers ?? []) {
    if (!l.collapsed) continue;
    for (const kind of ['movingVariance', 'gamma'] as const) {
      if (l.collapsed[kind].length > 0) out.push({ layer: l.layer, units: l.units, kind, collapsed: l.collapsed[kind] });
    }
  }
  return out;
}

const WHAT: Record<CollapseFlag['kind'], string> = {
  movingVariance: `moving variance below ${COLLAPSE_THRESHOLDS.movingVariance}`,
  gamma: `|γ| below ${COLLAPSE_THRESHOLDS.absGamma}`,
};

/** "unit 3" or "units 0, 3, 7". */
export function unitList(units: readonly number[]): string {
  const shown = units.join(', ');
  return units.length === 1 ? `unit ${shown}` : `units ${shown}`;
}

export function CollapseFlags({ epoch, hasBatchNorm }: { epoch: BnStatsEpoch | undefined; hasBatchNorm: boolean }) {
  if (!epoch) return null;
  const flags = collapseFlags(epoch);
  if (!hasBatchNorm) {
    return (
      <p class="flags" data-testid="collapse-flags" data-flags="0">
        No BN layer: there are no γ or moving variances that could collapse.
      </p>
    );
  }
  if (flags.length === 0) {
    return (
      <p class="flags flags-ok" data-testid="collapse-flags" data-flags="0">
        Epoch {epoch.epoch}: no collapsed units.
      </p>
    );
  }
  return (
    <div class="flags flags-warn" role="alert" data-testid="collapse-flags" data-flags={flags.length}>
      <strong>Epoch {epoch.epoch}: collapsed units</strong>
      <ul>
        {flags.map((f) => (
          <li key={`${f.layer}-${f.kind}`} data-layer={f.layer} data-kind={f.kind}>
            Layer {f.layer}: {WHAT[f.kind]} in {unitList(f.collapsed)}
            {f.collapsed.length >= 64 && ' (the first 64 listed)'} of {f.units}.
          </li>
        ))}
      </ul>
    </div>
  );
}
