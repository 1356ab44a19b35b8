// A dataset uploaded as files (multipart/form-data, or a text/csv body): each file streams through its
// decoder into the store's binary files as it arrives, with the row, feature and size limits enforced on
// the way, so the API never holds more than a block of rows. The info (statistics, classes, sizes) is
// accumulated on the way too, and published last.
import type { DatasetInfo, FeatureType, PartName } from '../schemas/dataset.js';
import type { ByteSink, DatasetWriter, Store } from '../store/store.js';
import { DatasetError, DatasetTooLargeError } from './errors.js';
import { decodeFile, type ArrayMeta, type FileFormat, type ValueBlock } from './formats/index.js';
import { ClassTally, StatsAccumulator } from './stats.js';
import { valueProblem, type DatasetLimits } from './validate.js';

/** The form's file fields, and the part and array each one fills. */
export const FILE_FIELDS = {
  features: { part: 'train', array: 'features' },
  labels: { part: 'train', array: 'labels' },
  testFeatures: { part: 'test', array: 'features' },
  testLabels: { part: 'test', array: 'labels' },
} as const;
export type FileField = keyof typeof FILE_FIELDS;
export const VALUE_FIELDS = ['name', 'label', 'scale'] as const;
export type ValueField = (typeof VALUE_FIELDS)[number];

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const MAX_TEXT = 200;

export function isFileField(name: string): name is FileField {
  return Object.hasOwn(FILE_FIELDS, name);
}

export function isValueField(name: string): name is ValueField {
  return (VALUE_FIELDS as readonly string[]).includes(name);
}

interface FileInfo {
  field: FileField;
  filename: string;
  format: FileFormat;
  gzip: boolean;
}

interface FeaturesState {
  file: FileInfo;
  rows: number;
  width: number;
  type: FeatureType;
  stats: StatsAccumulator;
  columns?: string[];
  /** The CSV's label column filled this part's labels. */
  labelColumn: boolean;
}

interface LabelsState {
  file: FileInfo;
  rows: number;
}

interface PartState {
  features?: FeaturesState;
  labels?: LabelsState;
}

/** How errors are worded: naming the form field and file, or (a text/csv body) as the CSV parser says. */
export type UploadMode = 'files' | 'body';

export class UploadSession {
  private readonly parts: Record<PartName, PartState> = { train: {}, test: {} };
  private readonly tally = new ClassTally();
  private readonly seen = new Set<string>();
  private name?: string;
  private labelColumn?: string;
  private scale = 1;
  private storedBytes = 0;
  private done = false;

  private constructor(
    private readonly writer: DatasetWriter,
    private readonly limits: DatasetLimits,
    private readonly mode: UploadMode,
  ) {}

  static async start(store: Store, id: string, limits: DatasetLimits, mode: UploadMode): Promise<UploadSession> {
    return new UploadSession(await store.createDatasetWriter(id), limits, mode);
  }

  get id(): string {
    return this.writer.id;
  }

  /** A value field of the form: name, label (the CSV label column) or scale (multiplies every feature). */
  setField(field: string, value: string): void {
    if (!isValueField(field)) throw unknownField(field);
    this.once(field);
    if (field === 'name') {
      if (value.length < 1 || value.length > MAX_TEXT) throw new DatasetError('name', `must be 1 to ${MAX_TEXT} characters (got ${value.length})`);
      this.name = value;
    } else if (field === 'label') {
      const label = value.trim();
      if (label.length < 1 || label.length > MAX_TEXT) throw new DatasetError('label', `must name a column in 1 to ${MAX_TEXT} characters`);
      const decoded = (['features', 'testFeatures'] as const).find((f) => this.seen.has(f) && this.stateOf(f).features?.file.format === 'csv');
      if (decoded) {
        throw new DatasetError('label', `arrived after the ${decoded} file, which was then read without a label column; send the label field before the files`);
      }
      this.labelColumn = label;
    } else {
      const scale = DECIMAL.test(value.trim()) ? Number(value) : NaN;
      if (!(Number.isFinite(scale) && scale > 0)) {
        throw new DatasetError('scale', `must be a number > 0 that every feature is multiplied by, e.g. 0.00392156862745098 for 1/255 (got ${JSON.stringify(value.slice(0, 40))})`);
      }
      this.scale = scale;
    }
  }

  /** Streams one file of the form into the dataset. */
  async addFile(field: string, filename: string, chunks: AsyncIterable<Uint8Array>, format?: FileFormat): Promise<void> {
    if (!isFileField(field)) throw unknownField(field);
    this.once(field);
    const { array } = FILE_FIELDS[field];
    const info: FileInfo = { field, filename, format: format ?? 'csv', gzip: false };
    try {
      const decoded = await decodeFile(
        chunks,
        { limits: this.limits, filename, format, labelColumn: array === 'features' ? this.labelColumn : undefined },
        array === 'features' ? this.featuresConsumer(info) : this.labelsConsumer(info),
      );
      info.format = decoded.format;
      info.gzip = decoded.gzip;
    } catch (err) {
      if (!(err instanceof DatasetError) || this.mode === 'body') throw err;
      // Located by the form field, the file and the place in it.
      const where = err.field === field ? '' : `, ${err.field}`;
      throw err.at(field, `${JSON.stringify(filename)}${where}: ${err.detail}`);
    }
  }

  /** Cross-checks the files, then publishes the dataset. */
  async finish(createdAt = new Date().toISOString()): Promise<DatasetInfo> {
    const train = this.complete('train', true)!;
    const test = this.complete('test', false);
    if (test && test.width !== train.width) {
      throw new DatasetError('testFeatures', `${this.describe(test.file)} has ${test.width} values per row; ${this.describe(train.file)} has ${train.width}`);
    }
    if (test?.columns && train.columns && test.columns.join('\u0000') !== train.columns.join('\u0000')) {
      throw new DatasetError('testFeatures', `the columns of ${this.describe(test.file)} differ from those of ${this.describe(train.file)}`);
    }
    const classes = this.tally.classes();
    const files = [...this.seen].filter(isFileField).map((f) => this.fileOf(f)).filter((f) => f !== undefined);
    const info: DatasetInfo = {
      id: this.id,
      ...(this.name !== undefined && { name: this.name }),
      rows: train.rows,
      features: train.width,
      ...(train.columns !== undefined && { featureNames: train.columns }),
      ...(classes !== undefined && { classes }),
      stats: train.stats.result(this.scale),
      storage: { features: train.type, scale: this.scale },
      ...(test && { test: { rows: test.rows, stats: test.stats.result(this.scale), storage: { features: test.type, scale: this.scale } } }),
      source: this.mode === 'body' ? 'upload: text/csv body' : `upload: ${files.map((f) => `${f.field}=${f.filename}`).join(', ')}`.slice(0, 400),
      createdAt,
    };
    await this.writer.commit(info);
    this.done = true;
    return info;
  }

  /** Removes what was written; a no-op after finish(). */
  async abort(): Promise<void> {
    if (!this.done) await this.writer.abort();
  }

  private once(field: string): void {
    if (this.seen.has(field)) throw new DatasetError(field, 'was sent twice; send each field once');
    this.seen.add(field);
  }

  private stateOf(field: FileField): PartState {
    return this.parts[FILE_FIELDS[field].part];
  }

  private fileOf(field: FileField): FileInfo | undefined {
    const state = this.stateOf(field);
    const file = FILE_FIELDS[field].array === 'features' ? state.features?.file : state.labels?.file;
    return file?.field === field ? file : undefined;
  }

  private describe(file: FileInfo): string {
    return this.mode === 'body' ? 'the CSV' : `${file.field} (${JSON.stringify(file.filename)})`;
  }

  /** The part's features with their labels, checked against each other; undefined for an absent test part. */
  private complete(part: PartName, required: boolean): FeaturesState | undefined {
    const { features, labels } = this.parts[part];
    const featuresField = part === 'train' ? 'features' : 'testFeatures';
    const labelsField = part === 'train' ? 'labels' : 'testLabels';
    if (!features) {
      if (labels) throw new DatasetError(featuresField, `is required with ${labelsField}`);
      if (required) throw new DatasetError(featuresField, 'is required: a file of feature rows (CSV, NPY or IDX, gzip allowed)');
      return undefined;
    }
    if (!features.labelColumn && !labels) {
      throw new DatasetError(
        labelsField,
        `is required: a file with one label per row of ${this.describe(features.file)}, or for a CSV with its labels in a column, a label field naming that column`,
      );
    }
    if (labels && labels.rows !== features.rows) {
      throw new DatasetError(labelsField, `${this.describe(labels.file)} has ${labels.rows} labels but ${this.describe(features.file)} has ${features.rows} rows`);
    }
    return features;
  }

  private count(bytes: number, field: string): void {
    this.storedBytes += bytes;
    const max = this.limits.maxBytes;
    if (max !== undefined && this.storedBytes > max) {
      throw new DatasetTooLargeError(field, `the dataset takes more than ${max} bytes as stored (MAX_DATASET_BYTES)`);
    }
  }

  private featuresConsumer(file: FileInfo) {
    const state = this.stateOf(file.field);
    const part = FILE_FIELDS[file.field].part;
    let meta: ArrayMeta;
    let features: FeaturesState;
    let xSink: Promise<ByteSink>;
    let labelSink: LabelSink | undefined;
    let scratch = new Float32Array(0);
    return {
      begin: (m: ArrayMeta) => {
        meta = m;
        file.format = m.format;
        if (m.hasLabels && state.labels) {
          const other = part === 'train' ? 'labels' : 'testLabels';
          throw new DatasetError('labelColumn', `the ${other} file and the label column both give labels; send one of them`);
        }
        const type: FeatureType = m.type === 'uint8' ? 'uint8' : 'float32';
        features = { file, rows: 0, width: m.width, type, stats: new StatsAccumulator(m.width), columns: m.columns, labelColumn: m.hasLabels };
        state.features = features;
        // Opened now, awaited at the first rows; a failure is handled there (or by abort, if no rows come).
        xSink = this.writer.openFeatures(part, type);
        xSink.catch(() => undefined);
        if (m.hasLabels) labelSink = new LabelSink(this.writer.openLabels(part), this.tally);
      },
      rows: async (values: ValueBlock, n: number, labels?: Float64Array) => {
        const width = meta.width;
        if (features.rows + n > this.limits.maxRows) {
          throw new DatasetError(meta.locate(this.limits.maxRows, 0), `more than ${this.limits.maxRows} rows (MAX_ROWS)`);
        }
        this.count(n * width * (values instanceof Uint8Array ? 1 : 4) + (labels ? n * 4 : 0), file.field);
        let bytes: Uint8Array;
        if (values instanceof Uint8Array) {
          bytes = values;
        } else {
          if (scratch.length < values.length) scratch = new Float32Array(values.length);
          for (let k = 0; k < values.length; k++) {
            const v = values[k];
            const problem = valueProblem(v);
            if (problem !== undefined) throw new DatasetError(meta.locate(features.rows + Math.floor(k / width), k % width), problem);
            scratch[k] = v;
          }
          bytes = new Uint8Array(scratch.buffer, 0, values.length * 4);
        }
        features.stats.addRows(values, n);
        await (await xSink).write(bytes);
        if (labels) await labelSink!.write(labels, n, (i) => meta.locate(features.rows + i, width));
        features.rows += n;
      },
    };
  }

  private labelsConsumer(file: FileInfo) {
    const state = this.stateOf(file.field);
    const part = FILE_FIELDS[file.field].part;
    let meta: ArrayMeta;
    let labels: LabelsState;
    let sink: LabelSink;
    return {
      begin: (m: ArrayMeta) => {
        meta = m;
        file.format = m.format;
        if (state.features?.labelColumn) {
          throw new DatasetError('header', `the label column of ${this.describe(state.features.file)} already gives this part's labels; send one of them`);
        }
        if (m.width !== 1) {
          const shape = m.shape ? ` (shape (${m.shape.join(', ')}))` : '';
          throw new DatasetError(
            'header',
            `expected one label per row, got ${m.width} values per row${shape}; one-hot labels need converting to class indices (numpy: y.argmax(axis=1))`,
          );
        }
        labels = { file, rows: 0 };
        state.labels = labels;
        sink = new LabelSink(this.writer.openLabels(part), this.tally);
      },
      rows: async (values: ValueBlock, n: number) => {
        if (labels.rows + n > this.limits.maxRows) {
          throw new DatasetError(meta.locate(this.limits.maxRows, 0), `more than ${this.limits.maxRows} labels (MAX_ROWS)`);
        }
        this.count(n * 4, file.field);
        await sink.write(values, n, (i) => meta.locate(labels.rows + i, 0));
        labels.rows += n;
      },
    };
  }
}

/** Labels into their float32 file: each checked (finite, within bounds) and tallied for `classes`. */
class LabelSink {
  private scratch = new Float32Array(0);

  constructor(
    private readonly sink: Promise<ByteSink>,
    private readonly tally: ClassTally,
  ) {
    // Opened now, awaited at the first labels; a failure is handled there (or by abort, if none come).
    sink.catch(() => undefined);
  }

  async write(values: ArrayLike<number>, n: number, locate: (i: number) => string): Promise<void> {
    if (this.scratch.length < n) this.scratch = new Float32Array(n);
    const out = this.scratch.subarray(0, n);
    for (let i = 0; i < n; i++) {
      const problem = valueProblem(values[i]);
      if (problem !== undefined) throw new DatasetError(locate(i), problem);
      out[i] = values[i];
    }
    this.tally.add(out);
    await (await this.sink).write(new Uint8Array(out.buffer, out.byteOffset, n * 4));
  }
}

function unknownField(field: string): DatasetError {
  return new DatasetError(
    field.slice(0, 100),
    `is not a known field; the files are ${Object.keys(FILE_FIELDS).join(', ')} and the fields ${VALUE_FIELDS.join(', ')}`,
  );
}
