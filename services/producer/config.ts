// The producer's configuration: one typed object read from the environment (the container) or from
// command-line flags (local runs; a flag overrides the variable it stands for). `producerEnv` is the
// inverse, used by the infra program to render the container's environment, so the contract lives here.
//
// Message key (PRODUCER_KEY, default `session`): the raw topic's key only spreads load and keeps
// order per key, because the consumer re-keys every event by its group key through its own
// repartition topic. `session` keys by user_session (falling back to user id, then product id
// when a row has none): sessions are numerous and short, so partitions fill evenly, and one
// session's view→cart→purchase arrive in order. `user` keeps a whole user's history in order at the
// cost of hot partitions for heavy users; `product` co-locates a product's events (skewed by
// best-sellers); `none` round-robins with no order at all.
import { EnvReader } from '../core/env';
import { gzipLevelRange } from '../core/gzip-codec';
import { readKafkaClientConfig, type KafkaClientConfig } from '../core/kafka-client';
import { defaultMetricsPort } from '../core/metrics';
import { defaultTopics, topicEnvVars } from '../core/topics';
import { EVENT_TYPES, type EventType } from '../core/event';
import { checkTimeZone, compileTimeFormat } from './time-format';

export const presetNames = ['rees46', 'online-retail', 'custom'] as const;
export type PresetName = (typeof presetNames)[number];
export const keyStrategies = ['session', 'user', 'product', 'none'] as const;
export type KeyStrategy = (typeof keyStrategies)[number];
/** gzip is built into kafkajs; snappy/lz4/zstd would need codecs with native parts or no maintainer. */
export const compressions = ['gzip', 'none'] as const;
export type Compression = (typeof compressions)[number];
export { gzipLevelRange };

export type Pace = { mode: 'max' } | { mode: 'rate'; eventsPerSecond: number } | { mode: 'replay'; speed: number };

/** Canonical fields a custom mapping can take from a column. */
export const mappableFields = [
  'eventTime', 'eventType', 'productId', 'categoryId', 'categoryCode', 'brand', 'price', 'quantity', 'userId', 'sessionId', 'country',
] as const;
export type MappableField = (typeof mappableFields)[number];

/** A column mapping for any other CSV (PRODUCER_MAPPING, JSON). */
export interface ColumnMapping {
  /** Canonical field → CSV column name. eventTime, productId and price are required. */
  columns: Partial<Record<MappableField, string>>;
  /** `iso`, `epoch_ms`, `epoch_s` or a pattern of YYYY MM M DD D HH H mm ss SSS and literals. */
  timeFormat: string;
  /** Event type for every row when no eventType column is mapped. */
  eventType?: EventType;
  /** Source value → canonical event type, for files that name their types differently. */
  eventTypes?: Record<string, EventType>;
}

export interface ProducerSettings {
  /** CSV file, plain or gzip (PRODUCER_FILE). */
  file: string;
  /** `auto` detects the preset from the header (PRODUCER_PRESET). */
  preset: PresetName | 'auto';
  mapping: ColumnMapping | null;
  /** Zone for zone-less times, e.g. Online Retail's InvoiceDate (PRODUCER_TIME_ZONE, IANA). */
  timeZone: string;
  pace: Pace;
  key: KeyStrategy;
  compression: Compression;
  /** zlib level of gzip batches, 1 (fastest) to 9 (PRODUCER_GZIP_LEVEL): Kafka's `compression.gzip.level`. */
  gzipLevel: number;
  /** Messages per produce batch (PRODUCER_BATCH_MESSAGES). */
  batchMessages: number;
  /** Bytes per produce batch (estimated before compression), whichever limit comes first (PRODUCER_BATCH_BYTES). */
  batchBytes: number;
  /** Seconds between progress log lines when stdout is not a terminal. */
  progressIntervalSeconds: number;
  /** Skip records starting at or before this line: a rerun after a stop resumes with no duplicate (0: from the start). */
  resumeAfterLine: number;
  /** transactional.id of the producer's transactions (PRODUCER_TRANSACTIONAL_ID): one live producer per id; a new one fences the old. */
  transactionalId: string;
  topics: { raw: string; deadLetter: string; sourceOffsets: string };
}

export interface ProducerConfig extends ProducerSettings {
  kafka: KafkaClientConfig;
  metricsPort: number;
}

export const producerDefaults = {
  preset: 'auto',
  timeZone: 'Europe/London',
  key: 'session',
  compression: 'gzip',
  // zlib's fastest: about 9.5-fold on canonical events against 12.8 at kafkajs' 6, at twice the
  // speed; end to end on two cores the CPU counts for more than the bytes (docs/benchmarks.md).
  gzipLevel: 1,
  batchMessages: 20_000,
  // Uncompressed, a partition's record batch stays under the broker's default max.message.bytes
  // (1 MiB) even when the whole batch goes to one partition.
  batchBytes: 1_000_000,
  // Compressed, four times that: canonical events compress about tenfold, so a partition's batch
  // still stays far under 1 MiB, and a quarter as many transactions carry the file.
  batchBytesGzip: 4_000_000,
  progressIntervalSeconds: 10,
  transactionalId: 'ecommerce-producer',
} as const;

/** Reads and validates the producer's environment; with a plain record, throws ConfigError on any problem. */
export function readProducerConfig(source: EnvReader | Record<string, string | undefined>): ProducerConfig {
  const env = source instanceof EnvReader ? source : new EnvReader(source);
  const preset = env.oneOf('PRODUCER_PRESET', ['auto', ...presetNames] as const, producerDefaults.preset);
  const timeZone = env.string('PRODUCER_TIME_ZONE', producerDefaults.timeZone);
  const compression = env.oneOf('PRODUCER_COMPRESSION', compressions, producerDefaults.compression);
  const gzipLevelSet = env.optionalString('PRODUCER_GZIP_LEVEL') !== undefined;
  env.check(!gzipLevelSet || compression === 'gzip', `PRODUCER_GZIP_LEVEL applies to gzip only, and PRODUCER_COMPRESSION=${compression}: drop one of the two`);
  const config: ProducerConfig = {
    file: env.string('PRODUCER_FILE'),
    preset,
    mapping: readMapping(env, preset, timeZone),
    timeZone,
    pace: readPace(env),
    key: env.oneOf('PRODUCER_KEY', keyStrategies, producerDefaults.key),
    compression,
    gzipLevel: env.int('PRODUCER_GZIP_LEVEL', producerDefaults.gzipLevel, gzipLevelRange),
    batchMessages: env.int('PRODUCER_BATCH_MESSAGES', producerDefaults.batchMessages, { min: 1, max: 100_000 }),
    batchBytes: env.int('PRODUCER_BATCH_BYTES', compression === 'gzip' ? producerDefaults.batchBytesGzip : producerDefaults.batchBytes, { min: 1024, max: 64 * 1024 * 1024 }),
    progressIntervalSeconds: env.int('PRODUCER_PROGRESS_INTERVAL_SECONDS', producerDefaults.progressIntervalSeconds, { min: 1 }),
    resumeAfterLine: env.int('PRODUCER_RESUME_AFTER_LINE', 0, { min: 0 }),
    transactionalId: env.string('PRODUCER_TRANSACTIONAL_ID', producerDefaults.transactionalId),
    topics: {
      raw: env.string(topicEnvVars.raw, defaultTopics.raw),
      deadLetter: env.string(topicEnvVars.deadLetter, defaultTopics.deadLetter),
      sourceOffsets: env.string(topicEnvVars.sourceOffsets, defaultTopics.sourceOffsets),
    },
    kafka: readKafkaClientConfig(env, 'producer'),
    metricsPort: env.int('METRICS_PORT', defaultMetricsPort, { min: 0, max: 65535 }),
  };
  const zoneProblem = checkTimeZone(timeZone);
  env.check(zoneProblem === undefined, `PRODUCER_TIME_ZONE=${zoneProblem ?? ''}`);
  if (!(source instanceof EnvReader)) env.done();
  return config;
}

function readPace(env: EnvReader): Pace {
  const rate = env.optionalString('PRODUCER_RATE') === undefined ? undefined : env.number('PRODUCER_RATE', 1, { min: 0.001 });
  const speed = env.optionalString('PRODUCER_REPLAY_SPEED') === undefined ? undefined : env.number('PRODUCER_REPLAY_SPEED', 1, { min: 0.000001 });
  env.check(rate === undefined || speed === undefined, 'PRODUCER_RATE and PRODUCER_REPLAY_SPEED exclude each other: pick a fixed rate or an event-time replay');
  if (rate !== undefined) return { mode: 'rate', eventsPerSecond: rate };
  if (speed !== undefined) return { mode: 'replay', speed };
  return { mode: 'max' };
}

function readMapping(env: EnvReader, preset: ProducerSettings['preset'], timeZone: string): ColumnMapping | null {
  const text = env.optionalString('PRODUCER_MAPPING');
  if (text === undefined) {
    env.check(preset !== 'custom', 'PRODUCER_PRESET=custom needs PRODUCER_MAPPING (JSON column mapping)');
    return null;
  }
  const { mapping, problems } = parseMapping(text, timeZone);
  for (const problem of problems) env.check(false, `PRODUCER_MAPPING: ${problem}`);
  return mapping;
}

/** Validates a JSON column mapping, collecting every problem. */
export function parseMapping(text: string, timeZone = 'UTC'): { mapping: ColumnMapping | null; problems: string[] } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { mapping: null, problems: [`not JSON: ${(error as Error).message}`] };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { mapping: null, problems: ['must be a JSON object'] };
  const v = value as Record<string, unknown>;
  const problems: string[] = [];
  const columns = checkColumns(v.columns, problems);
  const timeFormat = typeof v.timeFormat === 'string' ? v.timeFormat : 'iso';
  try {
    compileTimeFormat(timeFormat, timeZone);
  } catch (error) {
    problems.push(`timeFormat: ${(error as Error).message}`);
  }
  const isType = (t: unknown): t is EventType => typeof t === 'string' && (EVENT_TYPES as readonly string[]).includes(t);
  if (v.eventType !== undefined && !isType(v.eventType)) problems.push(`eventType ${JSON.stringify(v.eventType)} is not one of ${EVENT_TYPES.join(', ')}`);
  if (columns.eventType === undefined && v.eventType === undefined) problems.push('map columns.eventType or give a constant eventType');
  const eventTypes = checkEventTypes(v.eventTypes, isType, problems);
  if (problems.length > 0) return { mapping: null, problems };
  return {
    mapping: { columns, timeFormat, ...(isType(v.eventType) ? { eventType: v.eventType } : {}), ...(eventTypes ? { eventTypes } : {}) },
    problems,
  };
}

function checkColumns(value: unknown, problems: string[]): ColumnMapping['columns'] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    problems.push('columns must be an object of canonical field → column name');
    return {};
  }
  const columns: ColumnMapping['columns'] = {};
  for (const [field, column] of Object.entries(value)) {
    if (!(mappableFields as readonly string[]).includes(field)) problems.push(`columns.${field} is not a canonical field (${mappableFields.join(', ')})`);
    else if (typeof column !== 'string' || column === '') problems.push(`columns.${field} must be a column name`);
    else columns[field as MappableField] = column;
  }
  for (const required of ['eventTime', 'productId', 'price'] as const) {
    if (typeof value === 'object' && !(required in value)) problems.push(`columns.${required} is required`);
  }
  return columns;
}

function checkEventTypes(value: unknown, isType: (t: unknown) => t is EventType, problems: string[]): Record<string, EventType> | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    problems.push('eventTypes must be an object of source value → event type');
    return undefined;
  }
  for (const [from, to] of Object.entries(value)) {
    if (!isType(to)) problems.push(`eventTypes.${from}=${JSON.stringify(to)} is not one of ${EVENT_TYPES.join(', ')}`);
  }
  return value as Record<string, EventType>;
}

/** The environment that makes readProducerConfig return these settings; only given fields are rendered. */
export function producerEnv(settings: Partial<ProducerSettings>): Record<string, string> {
  const env: Record<string, string> = {};
  const set = (name: string, value: string | number | undefined): void => {
    if (value !== undefined) env[name] = String(value);
  };
  set('PRODUCER_FILE', settings.file);
  set('PRODUCER_PRESET', settings.preset);
  if (settings.mapping) set('PRODUCER_MAPPING', JSON.stringify(settings.mapping));
  set('PRODUCER_TIME_ZONE', settings.timeZone);
  if (settings.pace?.mode === 'rate') set('PRODUCER_RATE', settings.pace.eventsPerSecond);
  if (settings.pace?.mode === 'replay') set('PRODUCER_REPLAY_SPEED', settings.pace.speed);
  set('PRODUCER_KEY', settings.key);
  set('PRODUCER_COMPRESSION', settings.compression);
  // Only with gzip: the producer refuses a level beside PRODUCER_COMPRESSION=none.
  if (settings.compression !== 'none') set('PRODUCER_GZIP_LEVEL', settings.gzipLevel);
  set('PRODUCER_BATCH_MESSAGES', settings.batchMessages);
  set('PRODUCER_BATCH_BYTES', settings.batchBytes);
  set('PRODUCER_PROGRESS_INTERVAL_SECONDS', settings.progressIntervalSeconds);
  if (settings.resumeAfterLine) set('PRODUCER_RESUME_AFTER_LINE', settings.resumeAfterLine);
  set('PRODUCER_TRANSACTIONAL_ID', settings.transactionalId);
  set(topicEnvVars.raw, settings.topics?.raw);
  set(topicEnvVars.deadLetter, settings.topics?.deadLetter);
  set(topicEnvVars.sourceOffsets, settings.topics?.sourceOffsets);
  return env;
}

/** Command-line flags and the variable each one stands for. */
export const producerFlags: Record<string, string> = {
  '--file': 'PRODUCER_FILE',
  '--preset': 'PRODUCER_PRESET',
  '--mapping': 'PRODUCER_MAPPING',
  '--time-zone': 'PRODUCER_TIME_ZONE',
  '--rate': 'PRODUCER_RATE',
  '--replay': 'PRODUCER_REPLAY_SPEED',
  '--key': 'PRODUCER_KEY',
  '--compression': 'PRODUCER_COMPRESSION',
  '--gzip-level': 'PRODUCER_GZIP_LEVEL',
  '--batch-messages': 'PRODUCER_BATCH_MESSAGES',
  '--batch-bytes': 'PRODUCER_BATCH_BYTES',
  '--progress-interval': 'PRODUCER_PROGRESS_INTERVAL_SECONDS',
  '--resume-after-line': 'PRODUCER_RESUME_AFTER_LINE',
  '--topic': topicEnvVars.raw,
  '--dead-letter-topic': topicEnvVars.deadLetter,
  '--source-offsets-topic': topicEnvVars.sourceOffsets,
  '--transactional-id': 'PRODUCER_TRANSACTIONAL_ID',
  '--brokers': 'KAFKA_BROKERS',
  '--metrics-port': 'METRICS_PORT',
};

/** Turns `--flag value` / `--flag=value` into variable overrides; an unknown or valueless flag is an error. */
export function flagsToEnv(argv: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  const problems: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const name = producerFlags[flag];
    if (!name) {
      problems.push(`unknown option ${flag} (known: ${Object.keys(producerFlags).join(' ')})`);
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined || (inline === undefined && value.startsWith('--'))) problems.push(`option ${flag} needs a value`);
    else env[name] = value;
  }
  if (problems.length > 0) throw new FlagError(problems);
  return env;
}

export class FlagError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid options:\n  - ${problems.join('\n  - ')}`);
    this.name = 'FlagError';
  }
}
