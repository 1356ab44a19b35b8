// IDX files (MNIST's format) written by hand for the upload tests: magic 0 0 <type> <dims>, big-endian sizes.

/** A minimal IDX file: unsigned bytes (type 0x08) of the given shape, zeros unless given. */
export function idxU8(shape: number[], values: number[] = []): Buffer {
  const size = shape.reduce((a, b) => a * b, 1);
  const buf = Buffer.alloc(4 + 4 * shape.length + size);
  buf[2] = 0x08;
  buf[3] = shape.length;
  shape.forEach((d, a) => buf.writeUInt32BE(d, 4 + 4 * a));
  Buffer.from(values).copy(buf, 4 + 4 * shape.length);
  return buf;
}
