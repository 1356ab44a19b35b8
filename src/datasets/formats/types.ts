// What every file decoder hands on: a description of the array, then blocks of whole rows in order.
import type { DatasetLimits } from '../validate.js';

/** uint8 values are bytes 0-255 (kept as they are); everything else arrives as float64. */
export type ValueBlock = Uint8Array | Float64Array;

export type FileFormat = 'csv' | 'npy' | 'idx';

export interface ArrayMeta {
  format: FileFormat;
  /** Rows the header declares (binary formats); CSV counts them as it goes. */
  rows?: number;
  /** Values per row (features; 1 for a labels file). */
  width: number;
  type: 'uint8' | 'float';
  /** The array's shape as the file declares it (binary formats). */
  shape?: number[];
  /** CSV: names of the feature columns (absent when the file has no header row). */
  columns?: string[];
  /** CSV: the label column was found, and every block carries labels. */
  hasLabels: boolean;
  /** Where row `row`, column `column` sits in the file, for error messages ("row 3, column 7 (byte 151)"). */
  locate(row: number, column: number): string;
}

export interface RowConsumer {
  begin(meta: ArrayMeta): void;
  /** `rows` rows of meta.width values, row-major; with hasLabels, their labels. Awaited: backpressure. */
  rows(values: ValueBlock, rows: number, labels?: Float64Array): Promise<void>;
}

export interface DecodeOptions {
  limits: DatasetLimits;
  /** CSV: the column holding the labels; every other column is a feature. */
  labelColumn?: string;
}

/** Rows per block: about 256 KiB of values, at least one row. */
export function blockRows(width: number): number {
  return Math.max(1, Math.floor((1 << 15) / width));
}
