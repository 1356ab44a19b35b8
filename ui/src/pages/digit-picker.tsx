// For a model of 28 x 28 images (784 features, e.g. builtin:mnist): a row of its dataset drawn as the
// image it is, with its label, chosen by index, next or at random; "use this row" hands the row's
// features to the prediction form. Rows come a page at a time from GET /v1/datasets/:id/rows.
import { useEffect, useRef, useState } from 'preact/hooks';
import { getRows } from '../api/datasets.js';
import type { DatasetInfo, DatasetRows } from '../api/types.js';
import { ApiErrorBox } from '../components/api-error.js';
import { useAsync } from '../components/use-async.js';

export const IMAGE_SIDE = 28;
export const isImageDataset = (inputDim: number) => inputDim === IMAGE_SIDE * IMAGE_SIDE;

type Row = DatasetRows['rows'][number];

/** Greyscale pixels, ink bright on black: unit pixels (0-1) or raw bytes (0-255), whichever the row holds. */
function draw(canvas: HTMLCanvasElement, features: readonly number[]): void {
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const top = features.reduce((m, v) => Math.max(m, v), 0);
  const scale = top > 1 ? 255 : 1;
  const image = ctx.createImageData(IMAGE_SIDE, IMAGE_SIDE);
  features.forEach((v, k) => {
    const g = Math.round(Math.min(1, Math.max(0, v / scale)) * 255);
    image.data.set([g, g, g, 255], k * 4);
  });
  ctx.putImageData(image, 0, 0);
}

export function DigitPicker({ dataset, onUse }: { dataset: DatasetInfo; onUse: (features: number[]) => void }) {
  const [split, setSplit] = useState<'test' | 'train'>(dataset.test ? 'test' : 'train');
  const total = split === 'test' ? (dataset.test?.rows ?? 0) : dataset.rows;
  const [index, setIndex] = useState(0);
  const [typed, setTyped] = useState('0');
  const canvas = useRef<HTMLCanvasElement>(null);
  const row = useAsync(
    (signal): Promise<Row | undefined> => getRows(dataset.id, split, index, 1, signal).then((r) => r.rows[0]),
    [dataset.id, split, index],
  );

  useEffect(() => {
    if (row.value && canvas.current) draw(canvas.current, row.value.features);
  }, [row.value]);

  const go = (i: number) => {
    const next = ((i % total) + total) % total;
    setIndex(next);
    setTyped(String(next));
  };

  return (
    <div class="digit-picker" data-testid="digit-picker">
      <div>
        <canvas
          ref={canvas}
          class="digit"
          width={IMAGE_SIDE}
          height={IMAGE_SIDE}
          role="img"
          aria-label={row.value ? `row ${row.value.index} of the ${split} part, label ${row.value.label}` : 'loading a row'}
          data-row={row.value?.index}
        />
        <p>
          Label: <strong data-testid="digit-label">{row.value ? row.value.label : '…'}</strong>
        </p>
      </div>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          const n = Number(typed);
          if (Number.isInteger(n)) go(n);
        }}
      >
        <div class="row">
          <div class="field">
            <label for="digit-split">Rows</label>
            <select
              id="digit-split"
              value={split}
              onChange={(e) => {
                setSplit(e.currentTarget.value as 'test' | 'train');
                go(0);
              }}
            >
              {dataset.test && <option value="test">test ({dataset.test.rows})</option>}
              <option value="train">train ({dataset.rows})</option>
            </select>
          </div>
          <div class="field">
            <label for="digit-index">Row index (0-{total - 1})</label>
            <input id="digit-index" type="number" min={0} max={total - 1} step={1} value={typed} onInput={(e) => setTyped(e.currentTarget.value)} />
          </div>
        </div>
        <div class="actions">
          <button type="submit" class="secondary">
            Show row
          </button>
          <button type="button" class="secondary" onClick={() => go(index + 1)}>
            Next row
          </button>
          <button type="button" class="secondary" onClick={() => go(Math.floor(Math.random() * total))}>
            Random row
          </button>
          <button type="button" disabled={!row.value} onClick={() => row.value && onUse(row.value.features)}>
            Use this row
          </button>
        </div>
      </form>
      <ApiErrorBox error={row.error} title="The row could not be read" />
    </div>
  );
}
