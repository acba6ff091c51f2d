// The consumer's configuration: one typed object read from the environment. `consumerEnv` is the
// inverse, used by the infra program to render the container's environment, so the contract for
// CONSUMER_* and WINDOW_* lives here (the core variables KAFKA_*, METRICS_PORT, LOG_LEVEL and
// TOPIC_* are read here too but rendered by whoever owns them).
//
// "Sliding" windows are hopping windows (size + advance), as Flink names them; the size must be a
// whole number of advances so that every event falls into exactly size/advance windows and window
// starts line up on epoch multiples of the advance.
import { ConfigError, EnvReader } from '../core/env';
import { readKafkaClientConfig, type KafkaClientConfig } from '../core/kafka-client';
import { defaultMetricsPort } from '../core/metrics';
import { consumerTopicRoles, defaultTopics, topicEnvVars, type ConsumerTopicRole } from '../core/topics';

/** What events are grouped by: top-level category, normalised brand, or everything together. */
export const groupKeyKinds = ['category', 'brand', 'overall'] as const;
export type GroupKeyKind = (typeof groupKeyKinds)[number];

export interface ConsumerSettings {
  /** Consumer group of both stages; the ACLs allow groups prefixed `ecommerce-consumer` (CONSUMER_GROUP_ID). */
  groupId: string;
  /** Prefix of every transactional.id; ACLs allow the prefix `ecommerce-consumer` (CONSUMER_TRANSACTIONAL_ID_PREFIX). */
  transactionalIdPrefix: string;
  /** WINDOW_TUMBLING_SIZE_MS */
  tumblingSizeMs: number;
  /** WINDOW_SLIDING_SIZE_MS: length of each hopping window. */
  slidingSizeMs: number;
  /** WINDOW_SLIDING_ADVANCE_MS: distance between consecutive hopping window starts. */
  slidingAdvanceMs: number;
  /** WINDOW_GRACE_MS: how long after its end a window still accepts out-of-order records. */
  graceMs: number;
  /** WINDOW_GROUP_BY: every event is aggregated once per listed kind. */
  groupBy: GroupKeyKind[];
  /** WINDOW_TOP_N: products by revenue in each result. */
  topN: number;
  /** CONSUMER_IDLE_TIMEOUT_MS: a raw partition quiet (and caught up) this long stops holding windows open; 0 = never. */
  idleTimeoutMs: number;
  /** CONSUMER_SESSION_TIMEOUT_MS: how soon the group notices a dead instance and hands its partitions on. */
  sessionTimeoutMs: number;
  /** CONSUMER_MAX_BYTES_PER_PARTITION: fetch size per partition, so also the most one transaction carries from it. */
  maxBytesPerPartition: number;
  /** CONSUMER_CONCURRENT_PARTITIONS: partitions each stage processes at once (each has its own producer). */
  concurrentPartitions: number;
}

export interface ConsumerConfig extends ConsumerSettings {
  kafka: KafkaClientConfig;
  topics: Record<ConsumerTopicRole, string>;
  metricsPort: number;
}

export const consumerDefaults: ConsumerSettings = {
  groupId: 'ecommerce-consumer',
  transactionalIdPrefix: 'ecommerce-consumer',
  tumblingSizeMs: 60_000,
  slidingSizeMs: 300_000,
  slidingAdvanceMs: 60_000,
  graceMs: 30_000,
  groupBy: ['category', 'overall'],
  topN: 5,
  idleTimeoutMs: 30_000,
  sessionTimeoutMs: 30_000,
  maxBytesPerPartition: 1024 * 1024,
  concurrentPartitions: 4,
};

const week = 7 * 24 * 3600 * 1000;
/** Kafka's own limit for a group id and transactional.id is high; this keeps ids readable in logs. */
const idPattern = /^[A-Za-z0-9._-]{1,200}$/;

/** Reads and validates the consumer's environment; with a plain record, throws ConfigError on any problem. */
export function readConsumerConfig(source: EnvReader | Record<string, string | undefined>): ConsumerConfig {
  const env = source instanceof EnvReader ? source : new EnvReader(source);
  const settings = readSettings(env);
  const topics = Object.fromEntries(
    consumerTopicRoles.map((role) => [role, env.string(topicEnvVars[role], defaultTopics[role])]),
  ) as Record<ConsumerTopicRole, string>;
  const config: ConsumerConfig = {
    ...settings,
    topics,
    kafka: readKafkaClientConfig(env, 'consumer'),
    metricsPort: env.int('METRICS_PORT', defaultMetricsPort, { min: 0, max: 65535 }),
  };
  env.check(new Set(Object.values(topics)).size === Object.keys(topics).length, `TOPIC_* names must all differ, got ${Object.values(topics).join(', ')}`);
  if (!(source instanceof EnvReader)) env.done();
  return config;
}

function readSettings(env: EnvReader): ConsumerSettings {
  const d = consumerDefaults;
  const settings: ConsumerSettings = {
    groupId: env.string('CONSUMER_GROUP_ID', d.groupId),
    transactionalIdPrefix: env.string('CONSUMER_TRANSACTIONAL_ID_PREFIX', d.transactionalIdPrefix),
    tumblingSizeMs: env.int('WINDOW_TUMBLING_SIZE_MS', d.tumblingSizeMs, { min: 1, max: week }),
    slidingSizeMs: env.int('WINDOW_SLIDING_SIZE_MS', d.slidingSizeMs, { min: 1, max: week }),
    slidingAdvanceMs: env.int('WINDOW_SLIDING_ADVANCE_MS', d.slidingAdvanceMs, { min: 1, max: week }),
    graceMs: env.int('WINDOW_GRACE_MS', d.graceMs, { min: 0, max: week }),
    groupBy: readGroupBy(env),
    topN: env.int('WINDOW_TOP_N', d.topN, { min: 1, max: 100 }),
    idleTimeoutMs: env.int('CONSUMER_IDLE_TIMEOUT_MS', d.idleTimeoutMs, { min: 0, max: week }),
    // Kafka's default group.min/max.session.timeout.ms bounds.
    sessionTimeoutMs: env.int('CONSUMER_SESSION_TIMEOUT_MS', d.sessionTimeoutMs, { min: 6_000, max: 1_800_000 }),
    maxBytesPerPartition: env.int('CONSUMER_MAX_BYTES_PER_PARTITION', d.maxBytesPerPartition, { min: 1024, max: 64 * 1024 * 1024 }),
    concurrentPartitions: env.int('CONSUMER_CONCURRENT_PARTITIONS', d.concurrentPartitions, { min: 1, max: 64 }),
  };
  env.check(idPattern.test(settings.groupId), `CONSUMER_GROUP_ID=${JSON.stringify(settings.groupId)} must be 1-200 of A-Z a-z 0-9 . _ -`);
  env.check(idPattern.test(settings.transactionalIdPrefix), `CONSUMER_TRANSACTIONAL_ID_PREFIX=${JSON.stringify(settings.transactionalIdPrefix)} must be 1-200 of A-Z a-z 0-9 . _ -`);
  env.check(
    settings.slidingAdvanceMs <= settings.slidingSizeMs,
    `WINDOW_SLIDING_ADVANCE_MS=${settings.slidingAdvanceMs} must not exceed WINDOW_SLIDING_SIZE_MS=${settings.slidingSizeMs} (gaps would drop events)`,
  );
  env.check(
    settings.slidingSizeMs % settings.slidingAdvanceMs === 0,
    `WINDOW_SLIDING_SIZE_MS=${settings.slidingSizeMs} must be a multiple of WINDOW_SLIDING_ADVANCE_MS=${settings.slidingAdvanceMs}`,
  );
  env.check(
    settings.slidingSizeMs / settings.slidingAdvanceMs <= 1000,
    `WINDOW_SLIDING_SIZE_MS / WINDOW_SLIDING_ADVANCE_MS = ${settings.slidingSizeMs / settings.slidingAdvanceMs} windows per event; at most 1000`,
  );
  return settings;
}

function readGroupBy(env: EnvReader): GroupKeyKind[] {
  const items = env.list('WINDOW_GROUP_BY', consumerDefaults.groupBy);
  for (const item of items) {
    env.check((groupKeyKinds as readonly string[]).includes(item), `WINDOW_GROUP_BY entry ${JSON.stringify(item)} is not one of ${groupKeyKinds.join(', ')}`);
  }
  env.check(new Set(items).size === items.length, `WINDOW_GROUP_BY=${items.join(',')} lists a kind twice`);
  return items.filter((item): item is GroupKeyKind => (groupKeyKinds as readonly string[]).includes(item));
}

/** The CONSUMER_* and WINDOW_* variables for settings (defaults filled in); throws ConfigError if they would not read back. */
export function consumerEnv(overrides: Partial<ConsumerSettings> = {}): Record<string, string> {
  const s: ConsumerSettings = { ...consumerDefaults, ...overrides };
  const env: Record<string, string> = {
    CONSUMER_GROUP_ID: s.groupId,
    CONSUMER_TRANSACTIONAL_ID_PREFIX: s.transactionalIdPrefix,
    CONSUMER_IDLE_TIMEOUT_MS: String(s.idleTimeoutMs),
    CONSUMER_SESSION_TIMEOUT_MS: String(s.sessionTimeoutMs),
    CONSUMER_MAX_BYTES_PER_PARTITION: String(s.maxBytesPerPartition),
    CONSUMER_CONCURRENT_PARTITIONS: String(s.concurrentPartitions),
    WINDOW_TUMBLING_SIZE_MS: String(s.tumblingSizeMs),
    WINDOW_SLIDING_SIZE_MS: String(s.slidingSizeMs),
    WINDOW_SLIDING_ADVANCE_MS: String(s.slidingAdvanceMs),
    WINDOW_GRACE_MS: String(s.graceMs),
    WINDOW_GROUP_BY: s.groupBy.join(','),
    WINDOW_TOP_N: String(s.topN),
  };
  const reader = new EnvReader(env);
  // An empty list renders as an unset variable, which would silently read back as the default.
  reader.check(s.groupBy.length > 0, 'WINDOW_GROUP_BY must list at least one of ' + groupKeyKinds.join(', '));
  readSettings(reader);
  try {
    reader.done();
  } catch (error) {
    if (error instanceof ConfigError) throw new ConfigError(error.problems.map((p) => `consumer settings: ${p}`));
    throw error;
  }
  return env;
}
