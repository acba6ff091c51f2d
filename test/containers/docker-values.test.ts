// A second `up` is a no-op only if every value the docker provider reads back from the engine equals
// what the program wrote. Here every container of the prod stack is created on the real engine the
// way the provider creates it from the rendered values, started, inspected, and read back the way
// the provider reads it: the values must come back unchanged. The values as the program wrote them
// before (healthcheck "60s", no memorySwap) must not, or this test could not catch a regression.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { validateStackConfig } from '../../infra/config/stack-config';
import type { ContainerSpec } from '../../infra/render/container-spec';
import { dockerReadBackValues, type DockerReadBackValues } from '../../infra/render/docker-values';
import { renderKafkaContainer } from '../../infra/render/kafka-container';
import { renderGrafanaContainer, renderPrometheusContainer } from '../../infra/render/monitoring-containers';
import { renderConsumerContainers, renderProducerContainer } from '../../infra/render/service-containers';
import { ContainerRun } from '../../tools/docker/container-run';
import { DockerApiError } from '../../tools/docker/engine';
import { providerCreateFields, providerReadBack, type InspectForReadBack } from '../../tools/docker/provider-model';
import { freePorts } from '../../tools/kafka/free-port';
import { kafkaVersion, repoRoot } from '../../tools/kafka/kafka-runtime';
import { readStackFile } from '../support/stack-under-mocks';
import { defaultTopics } from '../../services/core/topics';

function prodSpecs(): ContainerSpec[] {
  const config = validateStackConfig(readStackFile('prod'), { stack: 'prod', kafkaVersion: kafkaVersion(), repoRoot });
  const namePrefix = 'docker-values-test';
  const pem = '-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n';
  const tls = { caCertPem: pem, certPem: pem, keyPem: pem, keyPkcs8Pem: pem };
  const services = { namePrefix, image: 'unused', kafka: config.kafka, services: config.services, topicNames: { ...defaultTopics }, tls };
  const monitoring = { namePrefix, bindAddress: config.kafka.bindAddress, monitoring: config.monitoring, services: config.services };
  return [
    ...Array.from({ length: config.kafka.brokers }, (_, i) => renderKafkaContainer({ namePrefix, nodeId: i + 1, kafka: config.kafka, organization: config.pki.organization, clusterId: 'MkU0NzQ2NTg0RjQ1NDU1', tls })),
    renderProducerContainer(services),
    ...renderConsumerContainers(services),
    renderPrometheusContainer(monitoring),
    renderGrafanaContainer({ ...monitoring, adminPassword: 'unused-password' }),
  ];
}

/** The values as infra/components/docker-container.ts wrote them before they were rendered as read back. */
function naiveValues(spec: ContainerSpec): DockerReadBackValues {
  const values = dockerReadBackValues(spec);
  const h = spec.healthcheck;
  return {
    ports: values.ports,
    restart: values.restart,
    logDriver: values.logDriver,
    ...(h && { healthcheck: { tests: h.test, interval: `${h.intervalSeconds}s`, timeout: `${h.timeoutSeconds}s`, retries: h.retries, startPeriod: `${h.startPeriodSeconds}s` } }),
    ...(spec.memoryMb && { memory: spec.memoryMb }),
  };
}

describe('docker.Container values survive a round trip through the engine', () => {
  let run: ContainerRun;
  let image: string;

  before(async () => {
    run = await ContainerRun.begin();
    // Any local image with `sleep` will do: only the container's settings are under test.
    image = 'pipeline/debian-base:bookworm';
    const present = await run.engine.request('GET', `/images/${image}/json`, { accept: [404] });
    if (present.status === 404) spawnSync('bash', [path.join(repoRoot, 'tools/images/build.sh')], { stdio: 'inherit' });
  });
  after(async () => {
    await run?.teardown();
  });

  /** Creates and starts a container from the values as the provider would, and reads it back as the provider would. */
  async function roundTrip(name: string, values: DockerReadBackValues): Promise<DockerReadBackValues> {
    const fields = providerCreateFields(values);
    const body = { Image: image, Entrypoint: ['sleep', '600'], Labels: run.labels, ...fields };
    try {
      await run.engine.json('POST', '/containers/create', { query: { name }, body });
      await run.engine.request('POST', `/containers/${name}/start`);
      return providerReadBack(await run.engine.json<InspectForReadBack>('GET', `/containers/${name}/json`));
    } finally {
      await run.engine.request('DELETE', `/containers/${name}`, { query: { force: true } }).catch((e: unknown) => {
        if (!(e instanceof DockerApiError && e.status === 404)) throw e;
      });
    }
  }

  it('reads back every rendered value of every prod container unchanged', async () => {
    const specs = prodSpecs();
    assert.ok(specs.some((s) => s.memoryMb) && specs.some((s) => s.healthcheck?.startPeriodSeconds === 60), 'the prod stack has the values this test is about');
    for (const spec of specs) {
      // Host ports free here; the address and protocol stay as rendered.
      const ports = await freePorts(spec.ports.length);
      const rendered = { ...dockerReadBackValues(spec), ports: dockerReadBackValues(spec).ports.map((p, i) => ({ ...p, external: ports[i]! })) };
      assert.deepEqual(await roundTrip(`${spec.name}-${run.runId}`, rendered), rendered, `${spec.name}: read back differs from what the program writes`);
    }
  });

  it('would show a diff for the values as written before (60s, memorySwap left to Docker)', async () => {
    const kafka = prodSpecs()[0]!;
    const naive = { ...naiveValues(kafka), ports: [] };
    const back = await roundTrip(`naive-${run.runId}`, naive);
    assert.equal(back.healthcheck?.startPeriod, '1m0s');
    assert.notEqual(back.memorySwap, undefined, 'Docker fills memorySwap in');
    assert.notDeepEqual(back, naive);
  });
});
