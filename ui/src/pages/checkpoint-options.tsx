// The checkpoints a select can name: latest and best, the model's own aliases, then every kept epoch.
import type { ModelDetail } from '../api/types.js';

export const BUILT_IN_ALIASES = ['latest', 'best'];

/** The model's aliases, the built-in ones first, with the epoch each names. */
export function aliasesOf(model: ModelDetail): [string, number][] {
  const entries = Object.entries(model.aliases);
  const builtIn = BUILT_IN_ALIASES.flatMap((a) => entries.filter(([name]) => name === a));
  const own = entries.filter(([name]) => !BUILT_IN_ALIASES.includes(name)).sort(([a], [b]) => a.localeCompare(b));
  return [...builtIn, ...own];
}

export function CheckpointOptions({ model, epochsOnly }: { model: ModelDetail; epochsOnly?: boolean }) {
  return (
    <>
      {!epochsOnly &&
        aliasesOf(model).map(([name, epoch]) => (
          <option key={name} value={name}>
            {name} (epoch {epoch})
          </option>
        ))}
      {[...model.checkpoints].reverse().map((c) => (
        <option key={c.epoch} value={String(c.epoch)}>
          epoch {c.epoch}
        </option>
      ))}
    </>
  );
}
