// One root pino logger per process, `service` bound; JSON in containers, pretty on a terminal.
import pino, { type Logger } from 'pino';

/** Every path a secret could travel under in a log line. */
export const redactPaths = [
  'password', '*.password', 'passphrase', '*.passphrase', 'key', '*.key', 'ssl.key', 'ssl.passphrase',
  'env.KAFKA_SSL_KEY_PASSWORD', '*.KAFKA_SSL_KEY_PASSWORD', 'authorization', '*.authorization',
];

export function createLogger(service: string, options: { level?: string; pretty?: boolean; destination?: NodeJS.WritableStream } = {}): Logger {
  const level = options.level ?? process.env.LOG_LEVEL ?? 'info';
  const pretty = options.pretty ?? (process.stdout.isTTY && !process.env.CI);
  const base = { level, base: { service }, redact: { paths: redactPaths, censor: '[redacted]' } };
  if (options.destination) return pino(base, options.destination as pino.DestinationStream);
  if (pretty) return pino({ ...base, transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l' } } });
  return pino(base);
}
