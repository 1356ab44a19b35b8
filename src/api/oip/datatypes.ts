// Tensor datatypes of the Open Inference Protocol (KServe's predict protocol v2 table, plus Triton's BF16)
// and their sizes in bytes; BYTES has no fixed size (each element is a 4-byte little-endian length and
// its bytes). This server computes in floating point: inputs in FP32 or FP64, outputs in FP32.
export const DATATYPE_BYTES: Readonly<Record<string, number | undefined>> = {
  BOOL: 1,
  UINT8: 1,
  UINT16: 2,
  UINT32: 4,
  UINT64: 8,
  INT8: 1,
  INT16: 2,
  INT32: 4,
  INT64: 8,
  FP16: 2,
  BF16: 2,
  FP32: 4,
  FP64: 8,
  BYTES: undefined,
};

export const PROTOCOL_DATATYPES = Object.keys(DATATYPE_BYTES);

/** What the models take and answer (the checkpoint's float32). */
export const MODEL_DATATYPE = 'FP32';

export type InputDatatype = 'FP32' | 'FP64';

/** Input datatypes this server reads. */
export const INPUT_DATATYPES: readonly InputDatatype[] = ['FP32', 'FP64'];

export function isInputDatatype(datatype: string): datatype is InputDatatype {
  return (INPUT_DATATYPES as readonly string[]).includes(datatype);
}
