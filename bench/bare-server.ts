// The ceiling of the HTTP stack: Fastify with one POST route that parses the same JSON body as a
// one-point prediction and answers a constant of the same shape, no plugins, no logging.
// Usage: PORT=... node dist/bench/bare-server.js   (prints "listening" when ready)
import Fastify from 'fastify';

const app = Fastify({ logger: false });
const answer = { y: [0.5], class: 1, checkpoint: 1 };
app.post('/predict', async () => answer);
await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' });
process.stdout.write('listening\n');
const stop = () => void app.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
