// A stream of chunks read as a file: headers are taken a few bytes at a time, then the body streams on.
export class ByteInput {
  private readonly it: AsyncIterator<Uint8Array>;
  private buffered: Uint8Array = new Uint8Array(0);
  private consumed = 0;
  private ended = false;

  constructor(chunks: AsyncIterable<Uint8Array>) {
    this.it = chunks[Symbol.asyncIterator]();
  }

  /** Bytes taken so far: the offset in the file of what comes next. */
  get offset(): number {
    return this.consumed;
  }

  /** Buffers at least `n` bytes unless the file ends first; returns how many are buffered. */
  async fill(n: number): Promise<number> {
    const parts: Uint8Array[] = [this.buffered];
    let have = this.buffered.length;
    while (have < n && !this.ended) {
      const next = await this.it.next();
      if (next.done) {
        this.ended = true;
        break;
      }
      parts.push(next.value);
      have += next.value.length;
    }
    if (parts.length > 1) this.buffered = Buffer.concat(parts);
    return this.buffered.length;
  }

  peek(): Uint8Array {
    return this.buffered;
  }

  /** The next `n` bytes (fill(n) first). */
  take(n: number): Uint8Array {
    if (n > this.buffered.length) throw new RangeError(`take(${n}) with ${this.buffered.length} bytes buffered`);
    const out = this.buffered.subarray(0, n);
    this.buffered = this.buffered.subarray(n);
    this.consumed += n;
    return out;
  }

  /** Everything not taken yet: the buffered bytes, then the rest of the stream. */
  async *rest(): AsyncGenerator<Uint8Array> {
    if (this.buffered.length > 0) {
      const first = this.buffered;
      this.buffered = new Uint8Array(0);
      this.consumed += first.length;
      yield first;
    }
    while (!this.ended) {
      const next = await this.it.next();
      if (next.done) {
        this.ended = true;
        return;
      }
      this.consumed += next.value.length;
      yield next.value;
    }
  }
}
