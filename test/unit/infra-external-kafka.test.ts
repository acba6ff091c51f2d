// kafka.mode external and stack shapes as config (refused by key), and the AlterUserScramCredentials
// wire format kafkajs lacks (checked byte by byte against the protocol's definition).
import assert from 'node:assert/strict';
import { pbkdf2Sync } from 'node:crypto';
import { describe, it } from 'node:test';
import { externalSecretKeys } from '../../infra/config/external-kafka-config';
import { StackConfigError } from '../../infra/config/reader';
import { validateStackConfig, type RawStackConfig } from '../../infra/config/stack-config';
import { decodeAlterUserScramCredentials, encodeAlterUserScramCredentials, scramUpsertion } from '../../infra/kafka-admin/scram-protocol';

const defaults = { stack: 'ext', kafkaVersion: '4.1.1', repoRoot: '/repo' };
const external = (extra: Record<string, unknown> = {}): RawStackConfig => ({ kafka: { mode: 'external', external: { bootstrapServers: ['k1:9093'], ...extra } } });

function problems(raw: RawStackConfig): string[] {
  try {
    validateStackConfig(raw, defaults);
  } catch (error) {
    assert.ok(error instanceof StackConfigError);
    return error.problems;
  }
  assert.fail('accepted');
}

describe('kafka.mode external and stack shapes (config)', () => {
  it('reads an external cluster with its defaults: mTLS admin, certificates signed here, principals by identity', () => {
    const config = validateStackConfig(external(), defaults);
    assert.deepEqual(config.kafka.external, { bootstrapServers: ['k1:9093'], authentication: 'mtls', clients: 'signed-certificates', principals: { producer: 'producer', consumer: 'consumer' } });
    assert.deepEqual(externalSecretKeys(config.kafka.external), ['kafkaCaCertPem', 'kafkaAdminCertPem', 'kafkaAdminKeyPem', 'kafkaClientsCaCertPem', 'kafkaClientsCaKeyPem']);
    const scram = validateStackConfig(external({ authentication: 'scram-sha-512', clients: 'scram-sha-512' }), defaults);
    assert.deepEqual(scram.kafka.external!.principals, { producer: 'ecommerce-pipeline-ext-producer', consumer: 'ecommerce-pipeline-ext-consumer' });
    assert.deepEqual(externalSecretKeys(scram.kafka.external!), ['kafkaCaCertPem', 'kafkaAdminUsername', 'kafkaAdminPassword']);
  });

  it('refuses at preview, by key, a replication factor above the stated broker count', () => {
    const found = problems({ ...external({ brokerCount: 2 }), topics: { raw: { replicationFactor: 3 } } });
    assert.ok(found.some((p) => p === 'ecommerce-pipeline:topics.raw.replicationFactor=3 must not exceed kafka.external.brokerCount=2'), found.join('\n'));
  });

  it('names every bad external key', () => {
    const found = problems({ kafka: { mode: 'external', brokers: 3, external: { bootstrapServers: ['no-port'], authentication: 'plain', principals: { producer: 'x', consumer: 'x' } } } });
    for (const pattern of [/kafka\.external\.bootstrapServers\[0\]="no-port" must be host:port/, /kafka\.external\.authentication="plain" must be one of mtls, scram-sha-512/,
      /kafka\.brokers is the bundled cluster's size/, /kafka\.external\.principals\.consumer=x is the producer's principal too/]) {
      assert.ok(found.some((p) => pattern.test(p)), `${String(pattern)} in\n${found.join('\n')}`);
    }
    assert.ok(problems({ kafka: { mode: 'external' } }).some((p) => /bootstrapServers is required/.test(p)));
    assert.ok(problems({ kafka: { external: { bootstrapServers: ['k:1'] } } }).some((p) => /kafka\.external applies to mode: external only/.test(p)));
  });

  it('a workers stack needs its kafka stack, and owns no cluster settings', () => {
    assert.ok(problems({ stack: { shape: 'workers' } }).some((p) => /stack\.kafkaStack is required with shape: workers/.test(p)));
    const found = problems({ stack: { shape: 'workers', kafkaStack: 'org/ecommerce-pipeline/kafka' }, topics: {} });
    assert.ok(found.some((p) => /ecommerce-pipeline:topics belongs to the kafka stack org\/ecommerce-pipeline\/kafka/.test(p)), found.join('\n'));
    assert.ok(problems({ stack: { shape: 'kafka', kafkaStack: 'a/b/c' } }).some((p) => /kafkaStack applies to shape: workers only/.test(p)));
  });
});

describe('AlterUserScramCredentials v0 (wire format)', () => {
  it('salts with PBKDF2-HMAC-SHA-512 over the given iterations (RFC 5802 Hi), never sending the password', () => {
    const salt = Buffer.from('0123456789abcdef');
    const u = scramUpsertion('alice', 'secret', 4096, salt);
    assert.deepEqual(u.saltedPassword, pbkdf2Sync('secret', salt, 4096, 64, 'sha512'));
    assert.equal(encodeAlterUserScramCredentials([], [u]).includes(Buffer.from('secret')), false);
  });

  it('encodes header tags, compact arrays, strings and bytes, and per-struct tags', () => {
    const u = scramUpsertion('al', 'pw', 8192, Buffer.from([1, 2]));
    const body = encodeAlterUserScramCredentials([{ name: 'bo', mechanism: 'scram-sha-512' }], [u]);
    const expected = Buffer.concat([
      Buffer.from([0]), // request header v2: no tagged fields
      Buffer.from([2, 3, 0x62, 0x6f, 2, 0]), // deletions: 1 entry, "bo", SCRAM-SHA-512 (2), no tags
      Buffer.from([2, 3, 0x61, 0x6c, 2, 0, 0, 0x20, 0, 3, 1, 2, 65]), u.saltedPassword, Buffer.from([0]), // upsertions: "al", 2, 8192, salt, 64-byte salted password
      Buffer.from([0]), // top-level tags
    ]);
    assert.deepEqual(body, expected);
  });

  it('decodes results after the response header\'s tags, with null and non-null messages', () => {
    const payload = Buffer.concat([
      Buffer.from([0]), Buffer.from([0, 0, 0, 0]), Buffer.from([3]),
      Buffer.from([3, 0x61, 0x6c, 0, 0, 0, 0]),
      Buffer.from([3, 0x62, 0x6f, 0, 91, 4, 0x6e, 0x6f, 0x21, 0]),
      Buffer.from([0]),
    ]);
    assert.deepEqual(decodeAlterUserScramCredentials(payload), [
      { user: 'al', errorCode: 0, errorMessage: null },
      { user: 'bo', errorCode: 91, errorMessage: 'no!' },
    ]);
    assert.throws(() => decodeAlterUserScramCredentials(Buffer.from([0, 0, 0])), /truncated/);
  });
});
