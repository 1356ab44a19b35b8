// Fastify gives every request a child logger bound to its request id. A successful prediction logs
// nothing (its access log is off), so the pino child (serialised bindings, a new object, garbage) is
// created on the first line the request logs instead, which takes measurable CPU off every prediction
// (bench/RESULTS.md and `npm run bench:http-costs` price the per-request features).
// Used through Fastify's documented `childLoggerFactory` option; lines are identical to an eager child's.
import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions } from 'pino';

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

// The log methods live on the prototype (below): no closures per request.
export interface DeferredChildLogger extends Pick<FastifyBaseLogger, (typeof LEVELS)[number]> {}

export class DeferredChildLogger implements FastifyBaseLogger {
  private real: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly childBindings: Bindings,
    private readonly options: ChildLoggerOptions,
  ) {}

  /** The pino child, created on first use. */
  get logger(): FastifyBaseLogger {
    return (this.real ??= this.parent.child(this.childBindings, this.options));
  }

  get level(): string {
    return this.logger.level;
  }

  set level(level: string) {
    this.logger.level = level;
  }

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.logger.child(bindings, options);
  }
}

for (const level of LEVELS) {
  Object.defineProperty(DeferredChildLogger.prototype, level, {
    value: function (this: DeferredChildLogger, ...args: unknown[]) {
      return (this.logger[level] as (...a: unknown[]) => void)(...args);
    },
    writable: true,
    configurable: true,
  });
}

/** Fastify's childLoggerFactory option. */
export function deferredChildLogger(logger: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger {
  return new DeferredChildLogger(logger, bindings, options);
}
