// Dataset request and response shapes, shared by the routes, the store and the OpenAPI document, and the
// in-memory form of a dataset's rows (typed arrays, never number[][]: a 70,000 x 784 image set is 55 MB
// as uint8 and would be gigabytes as boxed numbers).
import { Type, type Static } from 'typebox';

const FiniteRow = Type.Array(Type.Number(), { minItems: 1 });

export const DatasetUpload = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    features: Type.Array(FiniteRow, { minItems: 1, description: 'Rows of equal length' }),
    labels: Type.Array(Type.Number(), {
      minItems: 1,
      description: 'One per row: 0/1 (binary), 0..K-1 (multiclass) or any number (regression)',
    }),
    featureNames: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 200 }))),
  },
  { additionalProperties: false },
);
export type DatasetUpload = Static<typeof DatasetUpload>;

export const FeatureStats = Type.Object(
  {
    mean: Type.Array(Type.Number()),
    std: Type.Array(Type.Number({ description: 'population standard deviation' })),
    min: Type.Array(Type.Number()),
    max: Type.Array(Type.Number()),
  },
  { additionalProperties: false, description: 'Per feature, in column order' },
);
export type FeatureStats = Static<typeof FeatureStats>;

export const FEATURE_TYPES = ['uint8', 'float32'] as const;
export type FeatureType = (typeof FEATURE_TYPES)[number];

export const PartStorage = Type.Object(
  {
    features: Type.Enum(FEATURE_TYPES, { description: 'How the feature values are stored: uint8 (e.g. pixels) or float32' }),
    scale: Type.Number({ exclusiveMinimum: 0, description: 'A feature value is the stored value times scale (1/255 for unit pixels)' }),
  },
  { additionalProperties: false, description: 'Binary storage of the part; labels are float32' },
);
export type PartStorage = Static<typeof PartStorage>;

export const TestPartInfo = Type.Object(
  {
    rows: Type.Integer({ description: 'Rows of the test part' }),
    stats: FeatureStats,
    storage: PartStorage,
  },
  { additionalProperties: false, description: 'The held-out test part: never trained on, evaluated with POST /v1/models/:id/evaluate' },
);
export type TestPartInfo = Static<typeof TestPartInfo>;

export const DatasetInfo = Type.Object(
  {
    id: Type.String(),
    name: Type.Optional(Type.String()),
    rows: Type.Integer({ description: 'Rows of the training part (its validation split is taken from these)' }),
    features: Type.Integer({ description: 'Number of feature columns' }),
    featureNames: Type.Optional(Type.Array(Type.String())),
    classes: Type.Optional(
      Type.Integer({ description: 'Present when every label (of both parts) is an integer >= 0: max label + 1' }),
    ),
    stats: FeatureStats,
    storage: PartStorage,
    test: Type.Optional(TestPartInfo),
    source: Type.Optional(Type.String({ description: 'Where the rows came from (uploaded files, a package)' })),
    createdAt: Type.String({ format: 'date-time' }),
  },
  { additionalProperties: false },
);
export type DatasetInfo = Static<typeof DatasetInfo>;

export const PART_NAMES = ['train', 'test'] as const;
export type PartName = (typeof PART_NAMES)[number];
export const SPLIT_NAMES = ['train', 'test', 'all'] as const;
/** A part, or both ('all': the training rows, then the test rows). */
export type SplitName = (typeof SPLIT_NAMES)[number];

/** The rows of one part in memory: row-major features, one label per row. */
export interface DatasetPart {
  rows: number;
  features: number;
  /** [rows][features], row-major; the value of a feature is x * scale */
  x: Uint8Array | Float32Array;
  scale: number;
  y: Float32Array;
}

export interface DatasetData {
  train: DatasetPart;
  test?: DatasetPart;
}

/** The most rows GET /v1/datasets/:id/rows answers at once: a page of rows, never a whole dataset. */
export const MAX_ROWS_PAGE = 100;

export const DatasetRows = Type.Object(
  {
    datasetId: Type.String(),
    split: Type.Enum(PART_NAMES),
    offset: Type.Integer({ description: 'Index of the first row answered' }),
    rows: Type.Array(
      Type.Object(
        {
          index: Type.Integer({ description: 'Row index within the split' }),
          features: Type.Array(Type.Number(), { description: 'Feature values with the storage scale applied (what a model is given)' }),
          label: Type.Number(),
        },
        { additionalProperties: false },
      ),
    ),
    total: Type.Integer({ description: 'Rows of the split' }),
  },
  { additionalProperties: false, description: 'Rows [offset, offset + limit) of one part of a dataset' },
);
export type DatasetRows = Static<typeof DatasetRows>;
