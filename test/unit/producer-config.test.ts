// The producer's env contract: defaults, every bad variable named, flags over env, and
// producerEnv as the exact inverse the infra program relies on.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../services/core/env';
import { flagsToEnv, FlagError, parseMapping, producerEnv, readProducerConfig, type ProducerSettings } from '../../services/producer/config';

const base = { KAFKA_BROKERS: 'localhost:9092', KAFKA_SECURITY_PROTOCOL: 'PLAINTEXT', PRODUCER_FILE: 'data.csv' };

describe('producer config', () => {
  it('applies the documented defaults', () => {
    const config = readProducerConfig(base);
    assert.equal(config.file, 'data.csv');
    assert.equal(config.preset, 'auto');
    assert.equal(config.key, 'session');
    assert.equal(config.compression, 'gzip');
    assert.equal(config.gzipLevel, 1);
    assert.equal(config.timeZone, 'Europe/London');
    assert.deepEqual(config.pace, { mode: 'max' });
    assert.deepEqual(config.topics, { raw: 'ecommerce_topic', deadLetter: 'ecommerce_dead_letter', sourceOffsets: 'ecommerce_producer_offsets' });
    assert.equal(config.transactionalId, 'ecommerce-producer');
    assert.equal(config.metricsPort, 9464);
    assert.equal(config.kafka.clientId, 'producer');
  });

  it('names every bad variable at once', () => {
    const env = {
      KAFKA_BROKERS: 'localhost:9092', KAFKA_SECURITY_PROTOCOL: 'PLAINTEXT',
      PRODUCER_PRESET: 'kaggle', PRODUCER_KEY: 'random', PRODUCER_COMPRESSION: 'snappy', PRODUCER_RATE: 'fast',
      PRODUCER_BATCH_MESSAGES: '0', PRODUCER_TIME_ZONE: 'Mars/Olympus',
    };
    assert.throws(() => readProducerConfig(env), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      for (const name of ['PRODUCER_FILE is required', 'PRODUCER_PRESET=', 'PRODUCER_KEY=', 'PRODUCER_COMPRESSION=', 'PRODUCER_RATE=', 'PRODUCER_BATCH_MESSAGES=', 'PRODUCER_TIME_ZONE=']) {
        assert.ok(error.message.includes(name), `${name} not reported in ${error.message}`);
      }
      return true;
    });
  });

  it('refuses a rate together with a replay speed, and custom without a mapping', () => {
    assert.throws(() => readProducerConfig({ ...base, PRODUCER_RATE: '10', PRODUCER_REPLAY_SPEED: '2' }), /exclude each other/);
    assert.throws(() => readProducerConfig({ ...base, PRODUCER_PRESET: 'custom' }), /PRODUCER_PRESET=custom needs PRODUCER_MAPPING/);
  });

  it('producerEnv is the inverse of readProducerConfig', () => {
    const settings: ProducerSettings = {
      file: '/data/events.csv.gz',
      preset: 'custom',
      mapping: { columns: { eventTime: 'ts', productId: 'sku', price: 'amount' }, timeFormat: 'epoch_s', eventType: 'purchase' },
      timeZone: 'UTC',
      pace: { mode: 'replay', speed: 60 },
      key: 'user',
      compression: 'none',
      gzipLevel: 1,
      batchMessages: 100,
      batchBytes: 65536,
      progressIntervalSeconds: 5,
      resumeAfterLine: 1200,
      transactionalId: 'ecommerce-producer-test',
      topics: { raw: 'raw', deadLetter: 'dlq', sourceOffsets: 'positions' },
    };
    const { kafka: _kafka, metricsPort: _port, ...back } = readProducerConfig({ ...base, ...producerEnv(settings) });
    assert.deepEqual(back, settings);
    const gzip = readProducerConfig({ ...base, ...producerEnv({ compression: 'gzip', gzipLevel: 6 }) });
    assert.deepEqual([gzip.compression, gzip.gzipLevel], ['gzip', 6]);
    const rate = readProducerConfig({ ...base, ...producerEnv({ pace: { mode: 'rate', eventsPerSecond: 250 } }) });
    assert.deepEqual(rate.pace, { mode: 'rate', eventsPerSecond: 250 });
    assert.deepEqual(producerEnv({}), {});
  });

  it('takes a gzip level from 1 to 9, and only with gzip', () => {
    assert.equal(readProducerConfig({ ...base, PRODUCER_GZIP_LEVEL: '9' }).gzipLevel, 9);
    assert.equal(readProducerConfig({ ...base, ...flagsToEnv(['--gzip-level', '4']) }).gzipLevel, 4);
    for (const bad of ['0', '10', 'fast', '1.5']) assert.throws(() => readProducerConfig({ ...base, PRODUCER_GZIP_LEVEL: bad }), new RegExp(`PRODUCER_GZIP_LEVEL="${bad.replace('.', '\\.')}" is not an integer in \\[1, 9\\]`));
    assert.throws(() => readProducerConfig({ ...base, PRODUCER_COMPRESSION: 'none', PRODUCER_GZIP_LEVEL: '1' }), /PRODUCER_GZIP_LEVEL applies to gzip only, and PRODUCER_COMPRESSION=none/);
  });

  it('flags override the variables they stand for', () => {
    const flags = flagsToEnv(['--file', 'other.csv', '--rate=500', '--preset', 'rees46']);
    const config = readProducerConfig({ ...base, PRODUCER_PRESET: 'online-retail', ...flags });
    assert.equal(config.file, 'other.csv');
    assert.equal(config.preset, 'rees46');
    assert.deepEqual(config.pace, { mode: 'rate', eventsPerSecond: 500 });
    assert.throws(() => flagsToEnv(['--fiel', 'x', '--rate']), (error: unknown) => {
      assert.ok(error instanceof FlagError);
      assert.match(error.message, /unknown option --fiel/);
      assert.match(error.message, /--rate needs a value/);
      return true;
    });
  });

  it('validates custom mappings field by field', () => {
    const { problems } = parseMapping(JSON.stringify({ columns: { eventTime: 'ts', colour: 'c', price: '' }, timeFormat: 'HH:mm', eventTypes: { buy: 'steal' } }));
    for (const expected of ['columns.colour is not a canonical field', 'columns.price must be a column name', 'columns.productId is required', 'has no year', 'columns.eventType or give a constant', 'eventTypes.buy="steal"']) {
      assert.ok(problems.some((p) => p.includes(expected)), `${expected} missing from ${problems.join(' | ')}`);
    }
    assert.deepEqual(parseMapping('{nope').problems.length, 1);
  });
});
