// Runs tasks one after another per key (and concurrently across keys), within one process.

export type Serialize = <T>(key: string, task: () => Promise<T>) => Promise<T>;

export function createKeyedSerializer(): Serialize {
  const tails = new Map<string, Promise<void>>();
  return async function serialize<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = tails.get(key) ?? Promise.resolve();
    const result = previous.then(task);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    tails.set(key, tail);
    try {
      return await result;
    } finally {
      if (tails.get(key) === tail) tails.delete(key);
    }
  };
}
