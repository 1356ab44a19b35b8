// The compose file is validated by compose itself (no engine needed), and the images run the same
// entry that `npm start` and the process tests run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

function composeCommand(): string[] {
  if (spawnSync('docker', ['compose', 'version']).status === 0) return ['docker', 'compose'];
  if (spawnSync('docker-compose', ['version']).status === 0) return ['docker-compose'];
  throw new Error('neither `docker compose` nor `docker-compose` is installed (apt-get install -y docker-compose)');
}

function compose(args: string[], env: NodeJS.ProcessEnv) {
  const [cmd, ...pre] = composeCommand();
  return spawnSync(cmd, [...pre, '-f', 'docker-compose.yml', ...args], { env, encoding: 'utf8' });
}

test('docker compose config accepts the compose file and keeps the guarantees', () => {
  const env = { ...process.env, API_KEYS: 'ci-key' };
  const result = compose(['--profile', 'gpu', 'config'], env);
  assert.equal(result.status, 0, result.stderr);
  const out = result.stdout;
  for (const service of ['redis:', 'api:', 'worker:', 'worker-gpu:']) assert.match(out, new RegExp(`\\n  ${service}`));
  assert.match(out, /appendonly/);
  assert.match(out, /noeviction/);
  assert.match(out, /driver: nvidia/);
  // api and workers share the data directory volume
  assert.equal(out.match(/source: bn-data/g)?.length ?? out.match(/bn-data:\/data/g)?.length, 3);
});

test('the compose file refuses to start the API without API_KEYS', () => {
  const env = { ...process.env };
  delete env.API_KEYS;
  const result = compose(['config'], env);
  assert.notEqual(result.status, 0);
  assert.match(result.stderr, /API_KEYS/);
});

test('images run the entry that npm start runs', () => {
  const pkg = JSON.parse(fs.readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> };
  assert.match(pkg.scripts.start, /node dist\/src\/main\.js$/);
  for (const file of ['docker/Dockerfile', 'docker/Dockerfile.gpu']) {
    const text = fs.readFileSync(file, 'utf8');
    assert.match(text, /CMD \["node", "dist\/src\/main\.js"\]/, file);
    assert.match(text, /npm ci --omit=dev/, file);
    assert.match(text, /^USER (node|app)$/m, `${file} runs as a non-root user`);
    // Without .npmrc, onnxruntime-node's install script downloads from nuget.org and npm ci fails offline.
    const installs = text.match(/RUN npm ci/g)?.length ?? 0;
    assert.equal(text.match(/COPY package\.json package-lock\.json \.npmrc \.\//g)?.length, installs, `${file}: .npmrc before every npm ci`);
  }
});
