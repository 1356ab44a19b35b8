// CSV uploads: a header row, one label column, every other column a numeric feature. csv-parse does the
// tokenising (quotes, CRLF, BOM); this file only turns cells into numbers and names the offending cell.
import { CsvError, parse } from 'csv-parse/sync';
import type { DatasetData } from '../schemas/dataset.js';
import { DatasetError } from './errors.js';
import { MAX_ABS_VALUE, validateDatasetRows, type DatasetLimits } from './validate.js';

/** Plain decimal notation only: Number() would also accept '', '0x1F', 'Infinity' and whitespace. */
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

export interface ParsedCsvDataset {
  data: DatasetData;
  featureNames: string[];
}

/** Comma unless the header has none and uses tabs or semicolons instead (spreadsheet exports). */
function detectDelimiter(text: string): string {
  const firstLine = text.trimStart().split(/\r?\n/, 1)[0] ?? '';
  if (firstLine.includes(',')) return ',';
  if (firstLine.includes('\t')) return '\t';
  if (firstLine.includes(';')) return ';';
  return ',';
}

function toNumber(cell: string, line: number, column: string): number {
  const value = DECIMAL.test(cell) ? Number(cell) : NaN;
  const where = `line ${line}, column ${JSON.stringify(column)}`;
  if (!Number.isFinite(value)) {
    throw new DatasetError(where, `${JSON.stringify(cell.slice(0, 40))} is not a finite number`);
  }
  if (Math.abs(value) > MAX_ABS_VALUE) {
    throw new DatasetError(where, `${cell} is beyond the supported magnitude of ${MAX_ABS_VALUE}`);
  }
  return value;
}

export function parseCsvDataset(text: string, labelColumn: string, limits: DatasetLimits): ParsedCsvDataset {
  if (text.trim() === '') throw new DatasetError('csv', 'the file is empty');
  const label = labelColumn.trim();
  let header: string[] | undefined;
  let labelIndex = -1;
  const featureNames: string[] = [];
  const features: number[][] = [];
  const labels: number[] = [];

  // Cells are converted as records arrive, so the string records are never all held at once.
  const onRecord = (record: string[], context: { lines: number }): null => {
    if (!header) {
      header = record;
      const seen = new Set<string>();
      record.forEach((name, j) => {
        if (name === '') throw new DatasetError(`line ${context.lines}`, `column ${j + 1} of the header has no name`);
        if (seen.has(name)) throw new DatasetError(`line ${context.lines}`, `duplicate column ${JSON.stringify(name)}`);
        seen.add(name);
      });
      labelIndex = record.indexOf(label);
      if (labelIndex < 0) {
        const columns = record.map((c) => JSON.stringify(c)).join(', ');
        throw new DatasetError('labelColumn', `no column named ${JSON.stringify(label)}; the columns are ${columns}`);
      }
      featureNames.push(...record.filter((_, j) => j !== labelIndex));
      if (featureNames.length === 0) throw new DatasetError('csv', 'no feature columns besides the label column');
      if (featureNames.length > limits.maxFeatures) {
        throw new DatasetError('csv', `${featureNames.length} feature columns exceed the limit of ${limits.maxFeatures}`);
      }
      return null;
    }
    if (record.length !== header.length) {
      throw new DatasetError(`line ${context.lines}`, `expected ${header.length} values, got ${record.length}`);
    }
    if (features.length >= limits.maxRows) {
      throw new DatasetError('csv', `more than ${limits.maxRows} data rows (the limit)`);
    }
    const row: number[] = [];
    for (let j = 0; j < record.length; j++) {
      const value = toNumber(record[j], context.lines, header[j]);
      if (j === labelIndex) labels.push(value);
      else row.push(value);
    }
    features.push(row);
    return null;
  };

  try {
    parse(text, {
      bom: true,
      trim: true,
      skip_empty_lines: true,
      relax_column_count: true,
      delimiter: detectDelimiter(text),
      on_record: onRecord,
    });
  } catch (err) {
    if (err instanceof CsvError) throw new DatasetError('csv', err.message);
    throw err;
  }
  if (features.length === 0) throw new DatasetError('csv', 'no data rows after the header');
  return { data: validateDatasetRows(features, labels, limits, featureNames), featureNames };
}
