// An update of a multi-broker stack replayed on the real Docker engine the way the Pulumi engine runs
// it (tools/docker/replacement-plan.ts): the broker certificates re-issued, so every broker container
// is replaced delete-before-replace, one after another through the program's roll gates (the real
// gate code), while an independent container (Prometheus) is replaced beside them and the services
// keep running. Meanwhile an acks=all probe writes to every partition of a topic of its own with the
// services' producer's retry budget, and a sampler counts the broker containers that are not running.
import type { Admin } from 'kafkajs';
import { rollGateProvider, type RollGateProps } from '../../../infra/kafka-admin/broker-roll-gate';
import type { ContainerSpec } from '../../../infra/render/container-spec';
import type { ContainerRun } from '../../../tools/docker/container-run';
import { planWaves, replacementPlan, type PlannedResource } from '../../../tools/docker/replacement-plan';
import { replaceContainer, replayPlan, type StepTiming } from '../../../tools/docker/replacement-replay';
import { serializedProvider } from '../../support/serialized-provider';
import type { EngineStack } from './engine-stack';

/** The services' producer's kafkajs retry budget (services/producer/event-producer.ts). */
const producerRetry = { retries: 8, initialRetryTime: 300, maxRetryTime: 30_000 };
const probeTopic = 'rolling-probe';

export interface BrokerRoll {
  /** The waves the plan ran in (the engine's order for this change). */
  waves: string[][];
  /** Each broker container's id before the roll, by container name. */
  oldIds: Map<string, string>;
  timings: StepTiming[];
  probe: { sent: number; slowestMs: number; refused: string[] };
  sampler: { maxDown: number; samples: number; worst: string };
  /** One line for the test's diagnostics: how long the roll and each step took. */
  summary: string;
}

/**
 * Rolls every broker of `engine` through the program's gates, with Prometheus replaced beside them
 * and `services` (unchanged) depending on the topics and ACLs, as the program's graph has it
 * (infra/components/kafka-cluster.ts, infra/stack.ts). Creates its probe topic first.
 */
export async function rollBrokers(engine: EngineStack, run: ContainerRun, admin: Admin, services: ContainerSpec[]): Promise<BrokerRoll> {
  const brokers = engine.config.kafka.brokers;
  await admin.createTopics({
    topics: [{ topic: probeTopic, numPartitions: brokers, replicationFactor: brokers, configEntries: [{ name: 'min.insync.replicas', value: String(brokers - 1) }] }],
    waitForLeaders: true,
  });
  const names = Array.from({ length: brokers }, (_, i) => engine.kafkaContainerName(i + 1));
  const oldIds = new Map(await Promise.all(names.map(async (n) => [n, (await run.inspect(n)).Id] as const)));
  // Re-rendered with re-issued broker certificates: every broker container changes.
  const next = new Map([...engine.kafkaSpecs(), engine.prometheusSpec()].map((s) => [s.name, s]));
  const gate = await serializedProvider(rollGateProvider);
  const connection = engine.adminConnection();
  const gateProps = (nodeId: number, containerId: string): RollGateProps => ({
    nodeId, containerId, address: engine.hostBootstrap()[nodeId - 1]!, nodeIds: names.map((_, i) => i + 1), connection,
    timeoutSeconds: engine.config.kafka.rollTimeoutSeconds, waitOnCreate: nodeId === brokers,
  });

  const gateName = (nodeId: number): string => `gate-${nodeId}`;
  const plan = replacementPlan([
    ...names.flatMap((name, i): PlannedResource[] => [
      { name, change: 'replace', dependsOn: i === 0 ? [] : [gateName(i)] },
      { name: gateName(i + 1), change: 'same', inputsFrom: [name] },
    ]),
    { name: 'topics-and-acls', change: 'same', inputsFrom: names.map((_, i) => gateName(i + 1)) },
    ...services.map((s): PlannedResource => ({ name: s.name, change: 'same', dependsOn: ['topics-and-acls'] })),
    { name: engine.prometheusSpec().name, change: 'replace' },
  ]);

  const probe = startProbe(engine);
  const sampler = startSampler(run, names);
  const started = Date.now();
  let timings: StepTiming[];
  try {
    timings = await replayPlan(plan, {
      replace: async (name) => { await replaceContainer(run, next.get(name)!, engine.network); },
      update: async (name) => {
        const nodeId = Number(name.slice('gate-'.length));
        const container = names[nodeId - 1]!;
        await gate.update!(`broker-${nodeId}`, gateProps(nodeId, oldIds.get(container)!), gateProps(nodeId, (await run.inspect(container)).Id));
      },
    });
  } finally {
    await Promise.all([probe.stop(), sampler.stop()]);
  }
  const seconds = (ms: number): string => (ms / 1000).toFixed(1);
  const summary = `full rolling restart of ${brokers} brokers: ${seconds(Date.now() - started)} s; ` +
    timings.filter((s) => s.change !== 'same').sort((a, b) => a.startedMs - b.startedMs)
      .map((s) => `${s.name} ${s.change} ${seconds(s.startedMs)}-${seconds(s.finishedMs)} s`).join(', ') +
    `; acks=all probe: ${probe.sent} sends, slowest ${seconds(probe.slowestMs)} s; broker samples: ${sampler.samples}`;
  return { waves: planWaves(plan), oldIds, timings, probe, sampler, summary };
}

/** One acks=all write to every probe partition every 500 ms, with the services' producer's retry budget. */
function startProbe(engine: EngineStack): { stop(): Promise<void>; sent: number; slowestMs: number; refused: string[] } {
  const producer = engine.hostKafka('admin').producer({ idempotent: true, retry: producerRetry });
  const partitions = engine.config.kafka.brokers;
  const state = { sent: 0, slowestMs: 0, refused: [] as string[], running: true };
  const loop = (async () => {
    await producer.connect().catch((error: Error) => state.refused.push(`connect: ${error.message}`));
    while (state.running) {
      const at = Date.now();
      try {
        await producer.send({ topic: probeTopic, acks: -1, messages: Array.from({ length: partitions }, (_, partition) => ({ partition, value: String(at) })) });
        state.sent++;
      } catch (error) {
        state.refused.push(`${new Date(at).toISOString()}: ${(error as Error).message}`);
      }
      state.slowestMs = Math.max(state.slowestMs, Date.now() - at);
      await new Promise((r) => setTimeout(r, 500));
    }
    await producer.disconnect();
  })();
  return Object.assign(state, { stop: async () => { state.running = false; await loop; } });
}

/** Every 250 ms: how many broker containers are not running (absent while replaced, created, exited). */
function startSampler(run: ContainerRun, names: string[]): { stop(): Promise<void>; maxDown: number; samples: number; worst: string } {
  const state = { maxDown: 0, samples: 0, worst: 'none down', running: true };
  const loop = (async () => {
    while (state.running) {
      const states = await Promise.all(names.map((n) => run.inspect(n).then((i) => i.State.Status, () => 'absent')));
      const down = names.filter((_, i) => states[i] !== 'running');
      state.samples++;
      if (down.length > state.maxDown) [state.maxDown, state.worst] = [down.length, `${new Date().toISOString()} down: ${down.join(', ')}`];
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  return Object.assign(state, { stop: async () => { state.running = false; await loop; } });
}
