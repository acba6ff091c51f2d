// The producer's exit codes (docs/producer.md), and which failure maps to which.
import { KafkaJSError } from 'kafkajs';
import { ConfigError } from '../core/env';
import { FlagError } from './config';
import { CsvUnreadableError } from './csv-source';

export const exitCodes = { ok: 0, crash: 1, config: 2, input: 3, kafka: 4 } as const;

/** The exit code for an error that ended the run before a report could be made. */
export function exitCodeFor(error: unknown): number {
  if (error instanceof ConfigError || error instanceof FlagError || (error as NodeJS.ErrnoException).code === 'ENOENT') return exitCodes.config;
  if (error instanceof CsvUnreadableError) return exitCodes.input;
  // kafkajs errors reaching here come from connecting: the brokers are unreachable or refuse us.
  if (error instanceof KafkaJSError) return exitCodes.kafka;
  return exitCodes.crash;
}
