// The docker.Container values are written the way the docker provider reads them back from Docker,
// so a preview after `up` shows no change (tested on the real engine in test/containers/docker-values.test.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ContainerSpec } from '../../infra/render/container-spec';
import { dockerReadBackValues, goDuration, goDurationOfSeconds, memorySwapMb } from '../../infra/render/docker-values';
import { parseGoDuration, providerCreateFields } from '../../tools/docker/provider-model';

function spec(fields: Partial<ContainerSpec> = {}): ContainerSpec {
  return { name: 'c', image: 'img', env: {}, ports: [], uploads: [], volumes: [], networkAliases: [], restart: 'unless-stopped', dependsOn: [], ...fields };
}

describe('Go duration strings, as Docker durations are read back', () => {
  it('prints whole seconds as time.Duration.String() does', () => {
    const cases: [number, string][] = [[0, '0s'], [5, '5s'], [15, '15s'], [59, '59s'], [60, '1m0s'], [90, '1m30s'], [600, '10m0s'], [3600, '1h0m0s'], [3661, '1h1m1s']];
    for (const [seconds, text] of cases) assert.equal(goDurationOfSeconds(seconds), text, `${seconds}s`);
  });

  it('prints fractions and sub-second values without trailing zeros', () => {
    assert.equal(goDuration(1_500_000_000), '1.5s');
    assert.equal(goDuration(61_250_000_000), '1m1.25s');
    assert.equal(goDuration(500_000_000), '500ms');
    assert.equal(goDuration(1_500_000), '1.5ms');
    assert.equal(goDuration(2_000), '2µs');
    assert.equal(goDuration(7), '7ns');
    assert.throws(() => goDuration(-1), /non-negative/);
    assert.throws(() => goDuration(1.5), /whole/);
  });

  it('parses back to the same nanoseconds (what the provider sends on create)', () => {
    for (const seconds of [0, 5, 15, 20, 30, 60, 90, 3600, 3661]) assert.equal(parseGoDuration(goDurationOfSeconds(seconds)), seconds * 1e9);
    assert.equal(parseGoDuration('1.5s'), 1.5e9);
    assert.throws(() => parseGoDuration('60'), /invalid duration/);
  });
});

describe('docker.Container values of a spec', () => {
  const kafkaLike = spec({
    ports: [{ internal: 9094, external: 19092, ip: '127.0.0.1' }],
    healthcheck: { test: ['CMD-SHELL', 'true'], intervalSeconds: 15, timeoutSeconds: 20, retries: 8, startPeriodSeconds: 60 },
    memoryMb: 1280,
  });

  it('writes durations as Docker reports them, memorySwap explicitly (no swap), ports with protocol, the log driver pinned', () => {
    assert.deepEqual(dockerReadBackValues(kafkaLike), {
      ports: [{ internal: 9094, external: 19092, ip: '127.0.0.1', protocol: 'tcp' }],
      restart: 'unless-stopped',
      logDriver: 'json-file',
      healthcheck: { tests: ['CMD-SHELL', 'true'], interval: '15s', timeout: '20s', retries: 8, startPeriod: '1m0s' },
      memory: 1280,
      memorySwap: 1280,
    });
    assert.equal(memorySwapMb(2048), 2048);
  });

  it('leaves memory, swap and healthcheck out where the spec has none (Docker reports 0 and the provider then sees no diff)', () => {
    const values = dockerReadBackValues(spec({ restart: 'on-failure' }));
    assert.deepEqual(values, { ports: [], restart: 'on-failure', logDriver: 'json-file' });
  });

  it('becomes the Engine API body the provider sends: nanoseconds and bytes', () => {
    const fields = providerCreateFields(dockerReadBackValues(kafkaLike));
    assert.deepEqual(fields.Healthcheck, { Test: ['CMD-SHELL', 'true'], Interval: 15e9, Timeout: 20e9, Retries: 8, StartPeriod: 60e9 });
    assert.equal(fields.HostConfig.MemorySwap, fields.HostConfig.Memory);
    assert.deepEqual(fields.HostConfig.PortBindings, { '9094/tcp': [{ HostIp: '127.0.0.1', HostPort: '19092' }] });
  });
});
