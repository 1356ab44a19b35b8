// A model's aliases (PUT/DELETE /v1/models/:modelId/aliases/:alias): the built-in latest and best, which
// follow training, and the user's own, each movable to any kept checkpoint; a new one; deletion.
import { useState } from 'preact/hooks';
import { api, apiErrorOf, ApiRequestError, send } from '../api/client.js';
import type { Alias, ModelDetail } from '../api/types.js';
import { ApiErrorBox } from '../components/api-error.js';
import { BUILT_IN_ALIASES, CheckpointOptions, aliasesOf } from './checkpoint-options.js';

interface Props {
  model: ModelDetail;
  /** Called after a change: the model record (with its aliases) is read again. */
  onChanged: () => void;
}

export function ModelAliases({ model, onChanged }: Props) {
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const newest = model.checkpoints[model.checkpoints.length - 1]?.epoch;
  const [name, setName] = useState('');
  const [target, setTarget] = useState(String(newest ?? ''));
  const [moves, setMoves] = useState<Record<string, string>>({});

  const call = async (what: () => Promise<unknown>, focus?: string) => {
    setBusy(true);
    setError(undefined);
    try {
      await what();
      onChanged();
      return true;
    } catch (err) {
      setError(err);
      if (focus) document.getElementById(focus)?.focus();
      return false;
    } finally {
      setBusy(false);
    }
  };
  const put = (alias: string, epoch: string) =>
    api<Alias>(`/v1/models/${model.modelId}/aliases/${encodeURIComponent(alias)}`, { method: 'PUT', json: { checkpoint: Number(epoch) } });

  // 204 without a body: not a JSON call.
  const remove = async (alias: string) => {
    const res = await send(`/v1/models/${model.modelId}/aliases/${encodeURIComponent(alias)}`, { method: 'DELETE' });
    if (!res.ok) throw await apiErrorOf(res);
  };

  const create = async (e: Event) => {
    e.preventDefault();
    const alias = name.trim();
    if (!alias) return setError(new ApiRequestError(400, 'name the alias first, e.g. production', 'alias'));
    if (await call(() => put(alias, target), 'alias-name')) setName('');
  };

  return (
    <div class="aliases">
      <div class="table-wrap">
        <table class="list" data-testid="aliases">
          <caption>Aliases: names usable wherever an epoch is (?checkpoint=, /v2 versions, evaluation)</caption>
          <thead>
            <tr>
              <th scope="col">Alias</th>
              <th scope="col">Epoch</th>
              <th scope="col">Move to</th>
              <th scope="col">
                <span class="visually-hidden">Delete</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {aliasesOf(model).map(([alias, epoch]) => {
              const builtIn = BUILT_IN_ALIASES.includes(alias);
              const to = moves[alias] ?? String(epoch);
              return (
                <tr key={alias} data-alias={alias}>
                  <th scope="row">
                    <code>{alias}</code>
                    {builtIn && <span class="help"> built in{alias === 'latest' ? ': the newest checkpoint' : ': the lowest validation loss'}</span>}
                  </th>
                  <td class="num" data-testid={`alias-${alias}-epoch`}>
                    {epoch}
                  </td>
                  <td>
                    {!builtIn && (
                      <span class="inline-form">
                        <label class="visually-hidden" for={`alias-move-${alias}`}>
                          Move {alias} to
                        </label>
                        <select id={`alias-move-${alias}`} value={to} onChange={(e) => setMoves((m) => ({ ...m, [alias]: e.currentTarget.value }))}>
                          <CheckpointOptions model={model} epochsOnly />
                        </select>{' '}
                        <button type="button" class="secondary" disabled={busy || to === String(epoch)} onClick={() => void call(() => put(alias, to))}>
                          Move {alias}
                        </button>
                      </span>
                    )}
                  </td>
                  <td>
                    {!builtIn && (
                      <button
                        type="button"
                        class="danger"
                        disabled={busy}
                        onClick={() => void call(() => remove(alias))}
                      >
                        Delete {alias}
                      </button>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <form onSubmit={create} noValidate>
        <div class="row">
          <div class="field">
            <label for="alias-name">New alias</label>
            <input
              id="alias-name"
              type="text"
              placeholder="production"
              maxLength={64}
              value={name}
              aria-invalid={error instanceof ApiRequestError && error.field === 'alias' ? 'true' : undefined}
              onInput={(e) => setName(e.currentTarget.value)}
            />
          </div>
          <div class="field">
            <label for="alias-target">Checkpoint</label>
            <select id="alias-target" value={target} aria-invalid={error instanceof ApiRequestError && error.field === 'checkpoint' ? 'true' : undefined} onChange={(e) => setTarget(e.currentTarget.value)}>
              <CheckpointOptions model={model} epochsOnly />
            </select>
          </div>
        </div>
        <div class="actions">
          <button type="submit" disabled={busy}>
            Create alias
          </button>
        </div>
      </form>
      <ApiErrorBox error={error} title="The alias was not changed" />
    </div>
  );
}
