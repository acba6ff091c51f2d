// The pure renderers: server.properties, the Kafka entry script and container, the service and
// monitoring containers, the PKI parameters and the ACL table expansion.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { validateStackConfig } from '../../infra/config/stack-config';
import { brokerParams, clientParams, rfc2253 } from '../../infra/pki/pki-params';
import { containerServerProperties, renderKafkaContainer, renderKafkaEntrypoint } from '../../infra/render/kafka-container';
import { renderGrafanaContainer, renderPrometheusContainer } from '../../infra/render/monitoring-containers';
import { principalMappingRules, renderServerProperties } from '../../infra/render/server-properties';
import { renderConsumerContainers, renderProducerContainer, serviceScrapeTargets } from '../../infra/render/service-containers';
import { aclBindingKey, aclBindings, leastPrivilegeRules } from '../../infra/security/acl-rules';
import { consumerNodeFlags } from '../../services/consumer/node-flags';
import { defaultTopics } from '../../services/core/topics';
import { opensslExtensions, TestPki } from '../support/test-pki';

const defaults = { stack: 'unit', kafkaVersion: '4.1.1', repoRoot: '/repo' };
const dev = validateStackConfig({}, defaults);
const prod = validateStackConfig({ kafka: { brokers: 3, controllerTls: true }, consumer: { replicas: 2 } }, defaults);
const tls = { caCertPem: 'CA', certPem: 'CERT', keyPkcs8Pem: '-----BEGIN PRIVATE KEY-----\nKEY\n-----END PRIVATE KEY-----' };

const properties = (text: string): Map<string, string> =>
  new Map(text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));

describe('infra renderers', () => {
  it('server.properties: one combined node, mutual TLS on client listeners, deny by default', () => {
    const p = properties(renderServerProperties(containerServerProperties({ nodeId: 1, kafka: dev.kafka, organization: 'acme' })));
    assert.equal(p.get('process.roles'), 'broker,controller');
    assert.equal(p.get('listener.security.protocol.map'), 'CONTROLLER:PLAINTEXT,INTERNAL:SSL,EXTERNAL:SSL');
    assert.equal(p.get('ssl.client.auth'), 'required');
    assert.equal(p.get('ssl.keystore.type'), 'PEM');
    assert.equal(p.get('authorizer.class.name'), 'org.apache.kafka.metadata.authorizer.StandardAuthorizer');
    assert.equal(p.get('allow.everyone.if.no.acl.found'), 'false');
    assert.equal(p.get('auto.create.topics.enable'), 'false');
    // ANONYMOUS only because the controller listener is plaintext (the broker's own controller requests).
    assert.equal(p.get('super.users'), 'User:kafka-1;User:admin;User:ANONYMOUS');
    assert.equal(p.get('advertised.listeners'), 'INTERNAL://kafka-1:9092,EXTERNAL://127.0.0.1:19092');
  });

  it('server.properties with controller TLS: no anonymous super user, TLS settings for the controller listener', () => {
    const p = properties(renderServerProperties(containerServerProperties({ nodeId: 2, kafka: prod.kafka, organization: 'acme' })));
    assert.equal(p.get('listener.security.protocol.map'), 'CONTROLLER:SSL,INTERNAL:SSL,EXTERNAL:SSL');
    assert.equal(p.get('listener.name.controller.ssl.client.auth'), 'required');
    assert.equal(p.get('super.users'), 'User:kafka-1;User:kafka-2;User:kafka-3;User:admin');
    assert.equal(p.get('advertised.listeners'), 'INTERNAL://kafka-2:9092,EXTERNAL://127.0.0.1:19093');
    assert.equal(p.get('transaction.state.log.min.isr'), '2');
  });

  it('the principal mapping rule matches exactly the subjects the PKI issues', () => {
    const rule = principalMappingRules('acme corp');
    const pattern = new RegExp(/^RULE:(.*)\/\$1\/,DEFAULT$/.exec(rule)![1]!);
    const settings = { organization: 'acme corp', caValidityHours: 48, validityHours: 24, earlyRenewalHours: 1, externalHost: 'kafka.example', caGeneration: 1, caRotation: 'none' as const };
    assert.equal(pattern.exec(rfc2253(clientParams(settings, 'producer').subject))?.[1], 'producer');
    assert.equal(pattern.exec(rfc2253(brokerParams(settings, 3).subject))?.[1], 'kafka-3');
    assert.equal(pattern.exec('CN=producer,OU=contractors,O=acme corp'), null, 'another unit keeps its full subject');
    assert.equal(pattern.exec('CN=producer,OU=clients,O=other'), null, 'another organization keeps its full subject');
  });

  it('the test PKI issues certificates with the parameters the stack gives @pulumi/tls', () => {
    const settings = { organization: 'acme', caValidityHours: 480, validityHours: 240, earlyRenewalHours: 1, externalHost: 'kafka.example', caGeneration: 1, caRotation: 'none' as const };
    const pki = TestPki.create(settings);
    const cert = new X509Certificate(pki.broker(2).certPem);
    assert.equal(cert.subject.split('\n').join(','), 'O=acme,OU=brokers,CN=kafka-2');
    assert.equal(cert.subjectAltName, 'DNS:kafka-2, DNS:localhost, DNS:kafka.example, IP Address:127.0.0.1');
    assert.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
    assert.equal((Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / 3_600_000, 240);
    assert.ok(cert.verify(new X509Certificate(pki.ca.certPem).publicKey));
    assert.match(opensslExtensions(clientParams(settings, 'producer')), /^extendedKeyUsage=clientAuth$/m);
  });

  it('the entry script formats storage idempotently, then execs the broker', () => {
    const script = renderKafkaEntrypoint();
    assert.match(script, /kafka-storage\.sh format --config \/etc\/kafka\/pipeline\/server\.properties --cluster-id="\$CLUSTER_ID" --ignore-formatted\n/, 'with "=": a random id may start with "-"');
    assert.match(script, /\nexec \/opt\/kafka\/bin\/kafka-server-start\.sh \/etc\/kafka\/pipeline\/server\.properties\n$/);
    assert.match(script, /^#!\/bin\/sh\n/);
  });

  it('the Kafka container: key secret, root-owned and readable by group 0 only, appuser with group 0, external port on the bind address, named volume', () => {
    const spec = renderKafkaContainer({ namePrefix: 'p', nodeId: 3, kafka: prod.kafka, organization: 'acme', clusterId: 'abc', tls });
    assert.equal(spec.name, 'p-kafka-3');
    assert.deepEqual(spec.networkAliases, ['kafka-3']);
    assert.deepEqual(spec.ports, [{ internal: 9094, external: 19094, ip: '127.0.0.1' }]);
    const keystore = spec.uploads.find((u) => u.path.endsWith('keystore.pem'))!;
    assert.deepEqual([keystore.secret, keystore.mode], [true, 0o640]);
    assert.equal(spec.user, '1000:0');
    assert.match(keystore.content, /^-----BEGIN PRIVATE KEY-----[\s\S]*\nCERT\n$/);
    assert.equal(spec.uploads.filter((u) => u.secret).length, 1, 'only the key store is secret');
    assert.deepEqual(spec.volumes, [{ volumeName: 'p-kafka-3-data', containerPath: '/var/lib/kafka/data' }]);
    assert.equal(spec.env.KAFKA_HEAP_OPTS, '-Xms512m -Xmx512m');
    assert.ok(spec.healthcheck?.test.join(' ').includes('--bootstrap-server kafka-3:9092'));
    // The probe's JVM is set up for a short run, not with the tools' server defaults (G1, both compilers).
    assert.match(spec.healthcheck!.test[1]!, /^KAFKA_HEAP_OPTS='-Xmx96m' KAFKA_JVM_PERFORMANCE_OPTS='-XX:\+UseSerialGC -XX:TieredStopAtLevel=1[^']*' \/opt\/kafka\/bin\/kafka-broker-api-versions\.sh /);
  });

  it('service containers: producer once, consumers × replicas, every broker as bootstrap, no published ports', () => {
    const input = { namePrefix: 'p', image: 'svc:1', kafka: prod.kafka, services: prod.services, topicNames: { ...defaultTopics }, tls: { caCertPem: 'CA', certPem: 'C', keyPem: 'K' } };
    const producer = renderProducerContainer(input);
    assert.equal(producer.env.KAFKA_BROKERS, 'kafka-1:9092,kafka-2:9092,kafka-3:9092');
    assert.equal(producer.restart, 'on-failure');
    assert.match(producer.command!.join(' '), /generate-cli\.js --rows 100000 --seed 1 --gzip --out \/tmp\/generated-events\.csv\.gz && exec node services\/producer\/main\.js$/);
    const consumers = renderConsumerContainers(input);
    assert.deepEqual(consumers.map((c) => c.env.KAFKA_CLIENT_ID), ['consumer-1', 'consumer-2']);
    // The consumer runs with its young generation enlarged, in the image as with npm run consume.
    for (const c of consumers) assert.deepEqual(c.command, ['node', '--max-semi-space-size=32', 'services/consumer/main.js']);
    const scripts = (JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    for (const flag of consumerNodeFlags) assert.ok(scripts.consume!.split(' ').includes(flag), `npm run consume passes ${flag}`);
    for (const spec of [producer, ...consumers]) {
      assert.deepEqual(spec.ports, []);
      assert.deepEqual(spec.dependsOn, ['p-kafka-1', 'p-kafka-2', 'p-kafka-3']);
      assert.deepEqual(spec.uploads.filter((u) => u.secret).map((u) => [u.path, u.mode]), [['/etc/pipeline/tls/client-key.pem', 0o640]]);
    }
    assert.deepEqual(serviceScrapeTargets(prod.services), [
      { job: 'producer', targets: ['producer:9464'] }, { job: 'consumer', targets: ['consumer-1:9464', 'consumer-2:9464'] },
    ]);
  });

  it('a dataset file is bind-mounted read-only from the host, never uploaded nor put into state', () => {
    const config = validateStackConfig({ producer: { dataset: { file: '/srv/data/2019-Oct.csv.gz' } } }, defaults);
    const spec = renderProducerContainer({ namePrefix: 'p', image: 'svc:1', kafka: config.kafka, services: config.services, topicNames: { ...defaultTopics }, tls: { caCertPem: 'CA', certPem: 'C', keyPem: 'K' } });
    assert.deepEqual(spec.binds, [{ hostPath: '/srv/data/2019-Oct.csv.gz', containerPath: '/data/2019-Oct.csv.gz', readOnly: true }]);
    assert.ok(!spec.uploads.some((u) => u.path.startsWith('/data/')));
    assert.equal(spec.env.PRODUCER_FILE, '/data/2019-Oct.csv.gz');
    assert.deepEqual(spec.command, ['node', 'services/producer/main.js']);
  });

  it('monitoring containers: loopback ports, scrape config uploaded, Grafana secured by the given password', () => {
    const input = { namePrefix: 'p', bindAddress: '127.0.0.1', monitoring: dev.monitoring, services: dev.services };
    const prometheus = renderPrometheusContainer(input);
    assert.deepEqual(prometheus.ports, [{ internal: 9090, external: 9090, ip: '127.0.0.1' }]);
    assert.match(prometheus.uploads[0]!.content, /consumer-1:9464/);
    const grafana = renderGrafanaContainer({ ...input, adminPassword: 'a-long-enough-secret' });
    assert.equal(grafana.env.GF_SECURITY_ADMIN_PASSWORD, 'a-long-enough-secret');
    assert.equal(grafana.env.GF_AUTH_ANONYMOUS_ENABLED, 'false');
    assert.ok(grafana.uploads.some((u) => u.path.startsWith('/var/lib/grafana/dashboards/') && u.path.endsWith('.json')));
  });

  it('ACL rules expand into one binding per operation, with topic roles resolved and keys unique', () => {
    const bindings = aclBindings(leastPrivilegeRules({ groupPrefix: 'g', transactionalIdPrefix: 't' }), { ...defaultTopics, raw: 'orders' });
    assert.equal(bindings.length, 27);
    assert.ok(bindings.some((b) => b.principal === 'User:producer' && b.resourceName === 'orders' && b.operation === 'Write'));
    assert.ok(bindings.some((b) => b.resourceType === 'group' && b.resourceName === 'g' && b.patternType === 'prefixed'));
    assert.equal(new Set(bindings.map(aclBindingKey)).size, bindings.length);
    assert.equal(aclBindings([...leastPrivilegeRules({ groupPrefix: 'g', transactionalIdPrefix: 't' })].concat(leastPrivilegeRules({ groupPrefix: 'g', transactionalIdPrefix: 't' })), defaultTopics).length, 27, 'duplicates collapse');
  });
});
