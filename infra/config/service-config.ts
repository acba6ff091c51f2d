// `producer` and `consumer` in stack config. Their settings are the services' own (see
// services/*/config.ts); the services' validators run here too, so a value the container would
// refuse at start is refused at preview instead, named by its config key.
import { ConfigError } from '../../services/core/env';
import { consumerDefaults, consumerEnv, type ConsumerSettings } from '../../services/consumer/config';
import {
  compressions, gzipLevelRange, keyStrategies, presetNames, producerEnv, readProducerConfig, type ProducerSettings,
} from '../../services/producer/config';
import { ConfigReader } from './reader';

/** Where the producer's rows come from: a seeded dataset generated in its container, or a file on the deploying machine. */
export type Dataset = { kind: 'generate'; rows: number; seed: number } | { kind: 'file'; hostPath: string; preset: ProducerSettings['preset'] };

/**
 * Every consumer setting is a config key of the same name and type as in services/consumer/config.ts
 * (read generically, so a setting the consumer adds is configurable without touching this file);
 * the consumer's own validator then checks the combination.
 */
export function readConsumer(r: ConfigReader): { replicas: number; settings: ConsumerSettings } {
  const settings: ConsumerSettings = { ...consumerDefaults };
  const target = settings as unknown as Record<string, unknown>;
  for (const [name, fallback] of Object.entries(consumerDefaults) as [string, unknown][]) {
    if (typeof fallback === 'number') target[name] = r.int(name, fallback, { min: 0 });
    else if (typeof fallback === 'string') target[name] = r.string(name, fallback);
    else if (Array.isArray(fallback)) target[name] = r.list(name)?.map(String) ?? fallback;
  }
  r.check(settings.slidingAdvanceMs <= settings.slidingSizeMs, 'slidingAdvanceMs', `=${settings.slidingAdvanceMs} must not exceed slidingSizeMs=${settings.slidingSizeMs} (the gaps would drop events)`);
  r.check(settings.groupId.startsWith(consumerDefaults.groupId), 'groupId', `=${settings.groupId} must start with ${consumerDefaults.groupId} (the prefix the ACLs and dashboards expect)`);
  r.check(
    settings.transactionalIdPrefix.startsWith(consumerDefaults.transactionalIdPrefix), 'transactionalIdPrefix',
    `=${settings.transactionalIdPrefix} must start with ${consumerDefaults.transactionalIdPrefix}`,
  );
  try {
    consumerEnv(settings);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const problem of error.problems) r.report(`is refused by the consumer: ${problem}`);
  }
  return { replicas: r.int('replicas', 1, { min: 1, max: 64 }), settings };
}

export const producerKeys = ['dataset', 'preset', 'timeZone', 'rate', 'replaySpeed', 'key', 'compression', 'gzipLevel', 'batchMessages', 'batchBytes'] as const;

export function readProducer(r: ConfigReader): { dataset: Dataset; settings: Partial<ProducerSettings> } {
  const dataset = readDataset(r.child('dataset', ['generate', 'file']));
  const rate = r.has('rate') ? r.int('rate', 1, { min: 1 }) : undefined;
  const replaySpeed = r.has('replaySpeed') ? r.int('replaySpeed', 1, { min: 1 }) : undefined;
  r.check(rate === undefined || replaySpeed === undefined, 'replaySpeed', 'and rate exclude each other: pick a fixed rate or an event-time replay');
  const settings: Partial<ProducerSettings> = {
    ...(r.has('preset') ? { preset: r.oneOf('preset', ['auto', ...presetNames] as const, 'auto') } : {}),
    ...(r.has('timeZone') ? { timeZone: r.string('timeZone', 'UTC') } : {}),
    ...(rate !== undefined ? { pace: { mode: 'rate', eventsPerSecond: rate } } : {}),
    ...(replaySpeed !== undefined ? { pace: { mode: 'replay', speed: replaySpeed } } : {}),
    ...(r.has('key') ? { key: r.oneOf('key', keyStrategies, 'session') } : {}),
    ...(r.has('compression') ? { compression: r.oneOf('compression', compressions, 'gzip') } : {}),
    ...(r.has('gzipLevel') ? { gzipLevel: r.int('gzipLevel', 1, gzipLevelRange) } : {}),
    ...(r.has('batchMessages') ? { batchMessages: r.int('batchMessages', 5000, { min: 1, max: 100_000 }) } : {}),
    ...(r.has('batchBytes') ? { batchBytes: r.int('batchBytes', 4 << 20, { min: 1024, max: 64 << 20 }) } : {}),
  };
  // The producer refuses this too, but producerEnv leaves the level out beside compression none.
  r.check(settings.gzipLevel === undefined || settings.compression !== 'none', 'gzipLevel', 'applies to gzip only, and producer.compression is none: drop one of the two');
  checkWithProducer(r, settings);
  return { dataset, settings };
}

/** Runs the producer's own validation over the environment the container will get. */
function checkWithProducer(r: ConfigReader, settings: Partial<ProducerSettings>): void {
  try {
    readProducerConfig({ ...producerEnv(settings), PRODUCER_FILE: '/data/check.csv', KAFKA_BROKERS: 'kafka-1:9092', KAFKA_SECURITY_PROTOCOL: 'PLAINTEXT' });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const problem of error.problems) r.report(`is refused by the producer: ${problem}`);
  }
}

function readDataset(r: ConfigReader): Dataset {
  if (r.has('file')) {
    r.check(!r.has('generate'), 'generate', 'and file exclude each other');
    const hostPath = r.string('file', '', { regex: /^\//, describe: 'an absolute path on the machine running pulumi' });
    return { kind: 'file', hostPath, preset: 'auto' };
  }
  const g = r.child('generate', ['rows', 'seed']);
  return { kind: 'generate', rows: g.int('rows', 100_000, { min: 1, max: 100_000_000 }), seed: g.int('seed', 1, { min: 0 }) };
}
