// The consumer's env contract: defaults, validation naming each variable, and consumerEnv as the inverse.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../services/core/env';
import { consumerDefaults, consumerEnv, readConsumerConfig } from '../../services/consumer/config';

const base = { KAFKA_BROKERS: 'kafka-1:9093', KAFKA_SECURITY_PROTOCOL: 'PLAINTEXT' };

describe('consumer config', () => {
  it('defaults: both stages in group ecommerce-consumer, default topics, 1 min tumbling, 5 min/1 min sliding', () => {
    const config = readConsumerConfig(base);
    assert.equal(config.groupId, 'ecommerce-consumer');
    assert.equal(config.transactionalIdPrefix, 'ecommerce-consumer');
    assert.equal(config.tumblingSizeMs, 60_000);
    assert.equal(config.slidingSizeMs, 300_000);
    assert.equal(config.slidingAdvanceMs, 60_000);
    assert.deepEqual(config.groupBy, ['category', 'overall']);
    assert.equal(config.topics.repartition, 'ecommerce_consumer_repartition');
    assert.equal(config.topics.changelog, 'ecommerce_consumer_changelog');
    assert.equal(config.kafka.clientId, 'consumer');
    assert.equal(config.metricsPort, 9464);
  });

  it('consumerEnv is the inverse of readConsumerConfig', () => {
    const settings = { ...consumerDefaults, groupId: 'ecommerce-consumer-b', tumblingSizeMs: 1000, slidingSizeMs: 4000, slidingAdvanceMs: 2000, graceMs: 0, groupBy: ['overall' as const, 'brand' as const], topN: 3, idleTimeoutMs: 0, sessionTimeoutMs: 6000, maxBytesPerPartition: 16384, concurrentPartitions: 2 };
    const env = consumerEnv(settings);
    assert.ok(Object.keys(env).every((name) => /^(CONSUMER|WINDOW)_/.test(name)), 'only CONSUMER_* and WINDOW_* variables');
    const { kafka: _k, topics: _t, metricsPort: _m, ...read } = readConsumerConfig({ ...base, ...env });
    assert.deepEqual(read, settings);
  });

  it('reports every bad variable at once, by name', () => {
    assert.throws(
      () => readConsumerConfig({ ...base, WINDOW_SLIDING_SIZE_MS: '5000', WINDOW_SLIDING_ADVANCE_MS: '3000', WINDOW_GROUP_BY: 'category,colour', WINDOW_TOP_N: '0', WINDOW_GRACE_MS: '-1', TOPIC_LATE: 'ecommerce_topic' }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        const text = error.message;
        for (const part of ['WINDOW_SLIDING_SIZE_MS=5000 must be a multiple of WINDOW_SLIDING_ADVANCE_MS=3000', '"colour" is not one of', 'WINDOW_TOP_N=', 'WINDOW_GRACE_MS=', 'TOPIC_* names must all differ']) {
          assert.ok(text.includes(part), `missing ${part} in ${text}`);
        }
        return true;
      },
    );
  });

  it('rejects an advance larger than the size, and consumerEnv refuses settings that would not read back', () => {
    assert.throws(() => readConsumerConfig({ ...base, WINDOW_SLIDING_SIZE_MS: '1000', WINDOW_SLIDING_ADVANCE_MS: '2000' }), /ADVANCE_MS=2000 must not exceed/);
    assert.throws(() => consumerEnv({ groupBy: [] }), /consumer settings: WINDOW_GROUP_BY/);
    assert.throws(() => consumerEnv({ groupId: 'has space' }), /CONSUMER_GROUP_ID/);
  });
});

describe('npm run consume with a bad configuration', () => {
  it('exits 2 before connecting, naming every bad variable', async () => {
    const { spawnSync } = await import('node:child_process');
    const path = await import('node:path');
    const env: Record<string, string | undefined> = { ...process.env, KAFKA_BROKERS: '127.0.0.1:1', KAFKA_SECURITY_PROTOCOL: 'SSL', WINDOW_TOP_N: '0', LOG_LEVEL: 'info' };
    delete env.NODE_TEST_CONTEXT;
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'services/consumer/main.ts'], { cwd: path.join(__dirname, '..', '..'), env, encoding: 'utf8', timeout: 60_000 });
    assert.equal(run.status, 2, run.stdout + run.stderr);
    // Plain text on stderr, as the producer prints its configuration errors (issue 15), not a JSON fatal line.
    assert.match(run.stderr, /^consumer: invalid configuration:\n {2}- /);
    for (const name of ['WINDOW_TOP_N', 'KAFKA_SSL_CA_LOCATION is required']) assert.ok(run.stderr.includes(name), `${name} not named in ${run.stderr}`);
    assert.doesNotMatch(run.stdout + run.stderr, /"level"|\{"/);
  });
});
