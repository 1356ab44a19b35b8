// CSV files: one label column (named by the caller) or none, every other column a numeric feature.
// csv-parse does the tokenising (quotes, CRLF, BOM) as the bytes stream in; this file turns cells into
// numbers and names the offending line and column. The first line is a header of column names unless
// every cell of it is a number (np.savetxt writes none) and it does not hold the label column's name.
import { Readable } from 'node:stream';
import { CsvError, parse, type Info } from 'csv-parse';
import { DatasetError } from '../errors.js';
import { MAX_ABS_VALUE } from '../validate.js';
import type { ByteInput } from './byte-input.js';
import { blockRows, type DecodeOptions, type RowConsumer } from './types.js';

/** Plain decimal notation only: Number() would also accept '', '0x1F', 'Infinity' and whitespace. */
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
/** The delimiter is detected on the first line, read up to this far. */
const FIRST_LINE_MAX_BYTES = 1 << 16;

/** Comma unless the header has none and uses tabs or semicolons instead (spreadsheet exports). */
function detectDelimiter(firstLine: string): string {
  if (firstLine.includes(',')) return ',';
  if (firstLine.includes('\t')) return '\t';
  if (firstLine.includes(';')) return ';';
  return ',';
}

function toNumber(cell: string, line: number, column: string): number {
  const value = DECIMAL.test(cell) ? Number(cell) : NaN;
  const where = column === '' ? `line ${line}` : `line ${line}, column ${JSON.stringify(column)}`;
  if (!Number.isFinite(value)) throw new DatasetError(where, `${JSON.stringify(cell.slice(0, 40))} is not a finite number`);
  if (Math.abs(value) > MAX_ABS_VALUE) throw new DatasetError(where, `${cell} is beyond the supported magnitude of ${MAX_ABS_VALUE}`);
  return value;
}

function checkHeader(record: string[], line: number): void {
  const seen = new Set<string>();
  record.forEach((name, j) => {
    if (name === '') throw new DatasetError(`line ${line}`, `column ${j + 1} of the header has no name`);
    if (seen.has(name)) throw new DatasetError(`line ${line}`, `duplicate column ${JSON.stringify(name)}`);
    seen.add(name);
  });
}

interface Columns {
  /** Names for messages: the header's, or column numbers when there is none. */
  names: string[];
  labelIndex: number;
  width: number;
}

export async function decodeCsv(input: ByteInput, options: DecodeOptions, consumer: RowConsumer): Promise<void> {
  const { limits } = options;
  const label = options.labelColumn?.trim();
  // The first line, to pick the delimiter (a quoted newline in it is unusual enough to ignore here).
  let have = await input.fill(1);
  while (have < FIRST_LINE_MAX_BYTES && !input.peek().includes(0x0a)) {
    const more = await input.fill(have + 1);
    if (more === have) break;
    have = more;
  }
  const head = Buffer.from(input.peek().subarray(0, FIRST_LINE_MAX_BYTES)).toString('utf8').replace(/^\ufeff/, '').trimStart();
  const delimiter = detectDelimiter(head.split(/\r?\n/, 1)[0] ?? '');

  const parser = parse({ bom: true, trim: true, skip_empty_lines: true, relax_column_count: true, delimiter, info: true });
  const source = Readable.from(input.rest(), { objectMode: false });
  source.on('error', (err) => parser.destroy(err));
  source.pipe(parser);

  let columns: Columns | undefined;
  let block: Float64Array | undefined;
  let labels: Float64Array | undefined;
  let per = 0;
  let inBlock = 0;
  let rows = 0;
  const flush = async () => {
    if (inBlock === 0) return;
    await consumer.rows(block!.subarray(0, inBlock * columns!.width), inBlock, labels?.subarray(0, inBlock));
    inBlock = 0;
  };

  const start = (record: string[], line: number): boolean => {
    const numeric = record.every((cell) => DECIMAL.test(cell));
    const isHeader = !numeric || (label !== undefined && record.includes(label));
    let names: string[];
    let labelIndex = -1;
    if (isHeader) {
      checkHeader(record, line);
      names = record;
      if (label !== undefined) {
        labelIndex = record.indexOf(label);
        if (labelIndex < 0) {
          const list = record.map((c) => JSON.stringify(c.slice(0, 40))).join(', ');
          throw new DatasetError('labelColumn', `no column named ${JSON.stringify(label)}; the columns are ${list}`);
        }
      }
    } else {
      if (label !== undefined) {
        throw new DatasetError(
          'labelColumn',
          `no column named ${JSON.stringify(label)}: the first line holds numbers, not column names; add a header row to name the label column`,
        );
      }
      names = record.map(() => '');
    }
    const width = record.length - (labelIndex >= 0 ? 1 : 0);
    if (width === 0) throw new DatasetError('csv', 'no feature columns besides the label column');
    if (width > limits.maxFeatures) {
      throw new DatasetError('csv', `${width} feature columns exceed the limit of ${limits.maxFeatures}`);
    }
    columns = { names, labelIndex, width };
    per = blockRows(width);
    block = new Float64Array(per * width);
    if (labelIndex >= 0) labels = new Float64Array(per);
    consumer.begin({
      format: 'csv',
      width,
      type: 'float',
      ...(isHeader && { columns: names.filter((_, j) => j !== labelIndex) }),
      hasLabels: labelIndex >= 0,
      locate: (i, j) => `data row ${i + 1}, feature ${j + 1}`,
    });
    return isHeader;
  };

  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: Info }>) {
      const line = info.lines;
      if (!columns) {
        if (start(record, line)) continue;
      }
      const { names, labelIndex, width } = columns!;
      if (record.length !== names.length) throw new DatasetError(`line ${line}`, `expected ${names.length} values, got ${record.length}`);
      if (rows >= limits.maxRows) throw new DatasetError('csv', `more than ${limits.maxRows} data rows (the limit)`);
      let at = inBlock * width;
      for (let j = 0; j < record.length; j++) {
        const value = toNumber(record[j], line, names[j]);
        if (j === labelIndex) labels![inBlock] = value;
        else block![at++] = value;
      }
      inBlock++;
      rows++;
      if (inBlock === per) await flush();
    }
  } catch (err) {
    if (err instanceof CsvError) throw new DatasetError('csv', err.message);
    throw err;
  } finally {
    source.destroy();
  }
  if (!columns) throw new DatasetError('csv', 'the file is empty');
  if (rows === 0) throw new DatasetError('csv', 'no data rows after the header');
  await flush();
}
