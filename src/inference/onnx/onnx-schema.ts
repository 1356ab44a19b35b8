// The subset of onnx.proto (https://github.com/onnx/onnx/blob/main/onnx/onnx.proto) that a feed-forward
// graph needs, with the official field numbers, as a protobufjs JSON descriptor: encoding is protobufjs's
// job, and a reader of any other ONNX tool decodes these bytes with the full schema.
import protobuf from 'protobufjs';

const repeated = (type: string, id: number) => ({ rule: 'repeated', type, id });

const descriptor = {
  nested: {
    onnx: {
      nested: {
        TensorProto: {
          fields: {
            dims: repeated('int64', 1),
            dataType: { type: 'int32', id: 2 },
            name: { type: 'string', id: 8 },
            rawData: { type: 'bytes', id: 9 },
            docString: { type: 'string', id: 12 },
          },
        },
        AttributeProto: {
          fields: {
            name: { type: 'string', id: 1 },
            f: { type: 'float', id: 2 },
            i: { type: 'int64', id: 3 },
            ints: repeated('int64', 8),
            type: { type: 'int32', id: 20 },
          },
        },
        NodeProto: {
          fields: {
            input: repeated('string', 1),
            output: repeated('string', 2),
            name: { type: 'string', id: 3 },
            opType: { type: 'string', id: 4 },
            attribute: repeated('AttributeProto', 5),
            docString: { type: 'string', id: 6 },
            domain: { type: 'string', id: 7 },
          },
        },
        Dimension: { fields: { dimValue: { type: 'int64', id: 1 }, dimParam: { type: 'string', id: 2 } } },
        TensorShapeProto: { fields: { dim: repeated('Dimension', 1) } },
        TensorTypeProto: { fields: { elemType: { type: 'int32', id: 1 }, shape: { type: 'TensorShapeProto', id: 2 } } },
        TypeProto: { fields: { tensorType: { type: 'TensorTypeProto', id: 1 } } },
        ValueInfoProto: { fields: { name: { type: 'string', id: 1 }, type: { type: 'TypeProto', id: 2 }, docString: { type: 'string', id: 3 } } },
        GraphProto: {
          fields: {
            node: repeated('NodeProto', 1),
            name: { type: 'string', id: 2 },
            initializer: repeated('TensorProto', 5),
            docString: { type: 'string', id: 10 },
            input: repeated('ValueInfoProto', 11),
            output: repeated('ValueInfoProto', 12),
          },
        },
        OperatorSetIdProto: { fields: { domain: { type: 'string', id: 1 }, version: { type: 'int64', id: 2 } } },
        StringStringEntryProto: { fields: { key: { type: 'string', id: 1 }, value: { type: 'string', id: 2 } } },
        ModelProto: {
          fields: {
            irVersion: { type: 'int64', id: 1 },
            producerName: { type: 'string', id: 2 },
            producerVersion: { type: 'string', id: 3 },
            docString: { type: 'string', id: 6 },
            graph: { type: 'GraphProto', id: 7 },
            opsetImport: repeated('OperatorSetIdProto', 8),
            metadataProps: repeated('StringStringEntryProto', 14),
          },
        },
      },
    },
  },
};

export const ModelProto = protobuf.Root.fromJSON(descriptor).lookupType('onnx.ModelProto');

/** TensorProto.DataType */
export const FLOAT = 1;
export const INT64 = 7;
/** AttributeProto.AttributeType */
export const ATTR_FLOAT = 1;
export const ATTR_INT = 2;
export const ATTR_INTS = 7;

/** A NodeProto as the encoder takes it. */
export interface Node {
  opType: string;
  name: string;
  input: string[];
  output: string[];
  attribute?: { name: string; type: number; f?: number; i?: number; ints?: number[] }[];
}

/** A TensorProto initializer as the encoder takes it. */
export interface Initializer {
  name: string;
  dims: number[];
  dataType: number;
  rawData: Uint8Array;
}

/**
 * float32, little-endian as ONNX's raw_data requires (typed arrays are little-endian on every supported
 * CPU). A Float32Array is used as it is, without a copy: a large model's weights are not duplicated.
 */
export function floatTensor(name: string, dims: number[], values: ArrayLike<number>): Initializer {
  const f32 = values instanceof Float32Array ? values : Float32Array.from(values);
  return { name, dims, dataType: FLOAT, rawData: new Uint8Array(f32.buffer, f32.byteOffset, f32.byteLength) };
}

/** int64, little-endian. */
export function int64Tensor(name: string, dims: number[], values: readonly number[]): Initializer {
  const i64 = BigInt64Array.from(values, (v) => BigInt(v));
  return { name, dims, dataType: INT64, rawData: new Uint8Array(i64.buffer) };
}

/** A float32 graph input or output; a string dimension is symbolic (any size). */
export function valueInfo(name: string, dims: readonly (number | string)[]) {
  const dim = dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d }));
  return { name, type: { tensorType: { elemType: FLOAT, shape: { dim } } } };
}
