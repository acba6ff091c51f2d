// Graceful shutdown: on SIGTERM/SIGINT run the service's stop routine once (stop fetching, finish
// or abort the in-flight transaction, flush, close), then exit with the code it returns.
import type { Logger } from 'pino';

export interface ShutdownOptions {
  logger: Logger;
  /** Hard deadline after which the process exits anyway (code 1), so a stuck broker cannot hang a container stop. */
  timeoutMs?: number;
  signals?: NodeJS.Signals[];
  exit?: (code: number) => void;
}

export function onShutdown(stop: (signal: NodeJS.Signals) => Promise<number>, options: ShutdownOptions): () => void {
  const { logger } = options;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  let stopping = false;
  const handler = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn({ signal }, 'second signal while stopping; exiting now');
      exit(1);
      return;
    }
    stopping = true;
    logger.info({ signal }, 'stopping');
    const timer = setTimeout(() => {
      logger.error({ timeoutMs: options.timeoutMs }, 'graceful stop timed out; exiting');
      exit(1);
    }, options.timeoutMs ?? 30_000);
    timer.unref();
    stop(signal)
      .then((code) => {
        clearTimeout(timer);
        logger.info({ code }, 'stopped');
        exit(code);
      })
      .catch((error: unknown) => {
        clearTimeout(timer);
        logger.error({ err: error }, 'error while stopping');
        exit(1);
      });
  };
  for (const signal of signals) process.on(signal, handler);
  return () => {
    for (const signal of signals) process.off(signal, handler);
  };
}
