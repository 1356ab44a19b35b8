// Bounded fan-out over many items (files to read, statuses to assemble): at most `size` at a time, so a
// long list never opens more files at once than the process may.

/** fn over every item, `size` at a time, results in the items' order. */
export async function mapInBatches<T, R>(items: readonly T[], size: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size) out.push(...(await Promise.all(items.slice(i, i + size).map(fn))));
  return out;
}
