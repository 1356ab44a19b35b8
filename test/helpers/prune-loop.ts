// A child process for store-retention: saves checkpoints 1..N of a model and prunes to the newest one
// after each save, as a training child does, so that the parent's alias changes race the pruning.
//   node dist/test/helpers/prune-loop.js <dataDir> <modelId> <epochs>
import { fileURLToPath } from 'node:url';
import { createFsStore } from '../../src/store/fs-store.js';
import { checkpoint, trainingState } from '../store-fixtures.js';

async function main(): Promise<void> {
  const [dataDir, modelId, epochs] = process.argv.slice(2);
  const store = await createFsStore(dataDir);
  for (let epoch = 1; epoch <= Number(epochs); epoch++) {
    await store.putCheckpoint(checkpoint(modelId, epoch), trainingState(modelId, epoch));
    await store.pruneCheckpoints(modelId, { keepLast: 1, keepBest: 0, by: 'loss' });
  }
}

// Only as a script with its arguments: a test runner that globs every file under test/ may load it bare.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1] && process.argv.length >= 5) {
  main().catch((err: unknown) => {
    process.stderr.write(`prune-loop failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
