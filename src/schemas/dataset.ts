// Dataset request and response shapes, shared by the routes, the store and the OpenAPI document.
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

export const DatasetInfo = Type.Object(
  {
    id: Type.String(),
    name: Type.Optional(Type.String()),
    rows: Type.Integer(),
    features: Type.Integer({ description: 'Number of feature columns' }),
    featureNames: Type.Optional(Type.Array(Type.String())),
    classes: Type.Optional(
      Type.Integer({ description: 'Present when every label is an integer >= 0: max label + 1' }),
    ),
    stats: FeatureStats,
    createdAt: Type.String({ format: 'date-time' }),
  },
  { additionalProperties: false },
);
export type DatasetInfo = Static<typeof DatasetInfo>;

export interface DatasetData {
  features: number[][];
  labels: number[];
}
