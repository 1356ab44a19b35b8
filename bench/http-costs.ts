// npm run bench:http-costs [-- each]: where the time of a one-point prediction over HTTP goes. The
// server's CPU time per request at saturation (autocannon, 10 connections on loopback) for the bare
// route, the bare route plus all of the service's per-request features (bench/bare-server.ts, with the
// service's own code), and the service itself; `each` adds the bare route plus one feature at a time
// (each costs 1-3 us, about the run-to-run noise of this machine, so take those rows as a rough guide).
// Every variant runs side by side and is driven in turns; medians over the rounds. CPU time is read
// from /proc (Linux).
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { FEATURES } from './lib/http-features.js';
import { machine, quantile } from './lib/stats.js';
import { startService } from './lib/service.js';
import { drive, smallModelPredictUrl, startBareServer, type BareServer } from './sections/http-predict.js';

const ROUNDS = Number(process.env.ROUNDS ?? 6);
const EACH = process.argv.includes('each');
const SECONDS = 3;
const CONNECTIONS = 10;

/** user + system CPU seconds of a process. */
function cpuSeconds(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

interface Variant {
  name: string;
  url: string;
  pid: number;
  rps: number[];
  cpuUs: number[];
}

const median = (v: number[]): number => quantile([...v].sort((a, b) => a - b), 0.5);

async function main(): Promise<void> {
  const started = Date.now();
  const servers: BareServer[] = [];
  const variants: Variant[] = [];
  const service = await startService();
  try {
    for (const features of [[], ...(EACH ? FEATURES.map((f) => [f]) : []), [...FEATURES]]) {
      const server = await startBareServer(features);
      servers.push(server);
      const name = features.length === 0 ? 'bare route (the ceiling)' : features.length === 1 ? `+ ${features[0]}` : `+ all of: ${FEATURES.join(', ')}`;
      variants.push({ name, url: server.url, pid: server.pid, rps: [], cpuUs: [] });
    }
    const url = await smallModelPredictUrl(service);
    variants.push({ name: 'the service: POST /v1/models/:id/predict', url, pid: service.pid, rps: [], cpuUs: [] });

    for (const v of variants) await drive(v.url, CONNECTIONS, 2); // warm-up
    for (let r = 0; r < ROUNDS; r++) {
      for (const v of variants) {
        const before = cpuSeconds(v.pid);
        const f = await drive(v.url, CONNECTIONS, SECONDS);
        if (f.errors > 0 || f.non2xx > 0) throw new Error(`${v.name}: ${f.errors} errors, ${f.non2xx} non-2xx answers`);
        v.rps.push(f.requestsPerSecond);
        v.cpuUs.push(((cpuSeconds(v.pid) - before) * 1e6) / f.requests);
      }
    }
  } finally {
    await Promise.all([...servers.map((s) => s.stop()), service.stop()]);
  }

  const bare = median(variants[0].cpuUs);
  const rows = variants.map((v) => ({ variant: v.name, requestsPerSecond: Math.round(median(v.rps)), cpuUsPerRequest: median(v.cpuUs), overBareUs: median(v.cpuUs) - bare }));
  const head = '| variant | requests/s (median) | server CPU µs per request (median) | over the bare route |';
  const table = [
    head,
    head.replace(/[^|]+/g, '---'),
    ...rows.map((r, i) => `| ${r.variant} | ${r.requestsPerSecond.toLocaleString('en-US')} | ${r.cpuUsPerRequest.toFixed(1)} | ${i === 0 ? '–' : `${r.overBareUs >= 0 ? '+' : ''}${r.overBareUs.toFixed(1)} µs`} |`),
  ].join('\n');
  console.log(table);
  console.log(`\n${ROUNDS} alternating ${SECONDS} s rounds per variant, ${CONNECTIONS} connections, in ${Math.round((Date.now() - started) / 1000)} s`);
  await fsp.mkdir('bench/results', { recursive: true });
  await fsp.writeFile('bench/results/http-costs.json', `${JSON.stringify({ date: new Date().toISOString(), machine: machine(), rounds: ROUNDS, seconds: SECONDS, connections: CONNECTIONS, rows }, null, 2)}\n`);
}

await main();
