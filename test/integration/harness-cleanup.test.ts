// An interrupted run must leave no Kafka JVM and no scratch folder behind.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigResourceTypes, Kafka, logLevel } from 'kafkajs';
import { harnessJvmPids } from '../../tools/kafka/kafka-cluster';
import { loadStack } from '../../tools/local-stack';
import { repoRoot } from '../../tools/kafka/kafka-runtime';

function startAndWaitFor(args: string[], marker: RegExp, timeoutMs = 90_000): Promise<{ child: ChildProcess; match: RegExpMatchArray }> {
  // NODE_TEST_CONTEXT would make the child believe it runs inside this test runner.
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  const child = spawn(process.execPath, args, { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`no ${marker} within ${timeoutMs / 1000} s:\n${output}`)); }, timeoutMs);
    const onData = (d: Buffer): void => {
      output += d.toString();
      const match = output.match(marker);
      if (match) { clearTimeout(timer); resolve({ child, match }); }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`exited ${code} before ${marker}:\n${output}`)); });
  });
}

async function waitForNoJvm(before: number[], timeoutMs = 15_000): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  let alive: number[] = [];
  while (Date.now() < deadline) {
    alive = harnessJvmPids().filter((pid) => !before.includes(pid));
    if (alive.length === 0) return alive;
    await new Promise((r) => setTimeout(r, 250));
  }
  return alive;
}

const exited = (child: ChildProcess): Promise<number | null> =>
  child.exitCode !== null ? Promise.resolve(child.exitCode) : new Promise((r) => child.once('exit', (code) => r(code)));

describe('harness cleanup', () => {
  it('SIGINT to a test run midway leaves no Kafka JVM or temp dir', async () => {
    const before = harnessJvmPids();
    const fixture = path.join('test', 'fixtures', 'hanging-broker.fixture.ts');
    const { child, match } = await startAndWaitFor(['--import', 'tsx', '--test', fixture], /BROKER-READY (\S+)/);
    assert.ok(harnessJvmPids().length > before.length, 'the fixture should have a JVM running');
    child.kill('SIGINT');
    await exited(child);
    assert.deepEqual(await waitForNoJvm(before), []);
    assert.equal(existsSync(match[1]!), false, `${match[1]} should be removed`);
  });

  it('SIGKILL of the owning process: the watchdog kills the JVM and removes the temp dir', async () => {
    const before = harnessJvmPids();
    const { child, match } = await startAndWaitFor(['--import', 'tsx', path.join('tools', 'kafka-local.ts')], /logs: (\S+)/);
    child.kill('SIGKILL');
    await exited(child);
    assert.deepEqual(await waitForNoJvm(before), []);
    const deadline = Date.now() + 5_000;
    while (existsSync(match[1]!) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    assert.equal(existsSync(match[1]!), false, `${match[1]} should be removed`);
  });

  it('kafka:local has the dev stack\'s topics (partitions, configs), then stops cleanly on Ctrl-C and exits 0', async () => {
    const before = harnessJvmPids();
    const { child, match } = await startAndWaitFor(['--import', 'tsx', path.join('tools', 'kafka-local.ts')], /bootstrap servers: (\S+)[\s\S]*admin bundle: (\S+)[\s\S]*logs: (\S+)/, 300_000);
    try {
      // Issue 15: the same layout as the stack, e.g. the changelog's max.message.bytes and the dead-letter topic's one partition.
      const [bootstrap, bundle] = [match[1]!, match[2]!];
      const read = (file: string) => readFileSync(path.join(bundle, file), 'utf8');
      const kafka = new Kafka({ brokers: bootstrap.split(','), ssl: { ca: [read('ca.pem')], cert: read('admin.pem'), key: read('admin-key.pem') }, logLevel: logLevel.NOTHING });
      const admin = kafka.admin();
      await admin.connect();
      try {
        for (const topic of loadStack('dev').topics) {
          const meta = await admin.fetchTopicMetadata({ topics: [topic.name] });
          assert.equal(meta.topics[0]?.partitions.length, topic.partitions, `${topic.name} partitions`);
          const names = Object.keys(topic.config);
          const described = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic.name, configNames: names }] });
          const actual = Object.fromEntries((described.resources[0]?.configEntries ?? []).map((e) => [e.configName, e.configValue]));
          assert.deepEqual(actual, topic.config, `${topic.name} config`);
        }
      } finally {
        await admin.disconnect();
      }
    } finally {
      child.kill('SIGINT');
    }
    assert.equal(await exited(child), 0);
    assert.deepEqual(await waitForNoJvm(before), []);
    assert.equal(existsSync(match[3]!), false);
  });
});
