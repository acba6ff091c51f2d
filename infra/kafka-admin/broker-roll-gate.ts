// The gate between two brokers of a rolling restart. The docker provider replaces a container
// delete-before-replace, and the engine replaces independent resources in parallel: left alone it
// takes every broker down at once. Broker n+1's container depends on the gate of broker n, whose
// input is broker n's container id; a replaced container has a new id, so the gate updates, and its
// update returns only when broker n is back: it answers on its own listener, the cluster lists it
// (in KRaft a broker is listed once it is unfenced, i.e. caught up with the quorum's metadata log),
// and every partition, Kafka's internal topics included, has its full replica set in sync.
import * as pulumi from '@pulumi/pulumi';
import type { Admin } from 'kafkajs';
import { kafkaFor, type AdminConnection } from './connection';
import { describeGaps, isWhole, replicationGaps, type ClusterView, type ReplicationGaps } from './replication-gaps';

export interface RollTarget {
  /** The broker just (re)started. */
  nodeId: number;
  /** Its EXTERNAL listener, host:port. */
  address: string;
  /** Every node of the cluster: all of them must be listed. */
  nodeIds: number[];
}

export interface RollPoll {
  /** Undefined once the broker answered on its own listener; otherwise why it did not. */
  unanswered?: string;
  /** What the cluster's metadata showed, or why it could not be read. */
  gaps?: ReplicationGaps;
  metadataError?: string;
}

export interface RollWaitOptions {
  timeoutMs: number;
  pollMs?: number;
  /** Called after every poll (tests watch the wait block). */
  onPoll?: (poll: RollPoll) => void;
}

// A poll must fail fast: the wait itself is the retry.
const pollRetry = { retries: 1, initialRetryTime: 200, maxRetryTime: 1_000 };

export async function readClusterView(admin: Admin): Promise<ClusterView> {
  const { brokers } = await admin.describeCluster();
  // No topic list: Kafka answers every topic, its internal ones included (the admin is a super user).
  const { topics } = await admin.fetchTopicMetadata();
  return {
    brokers: brokers.map((b) => b.nodeId),
    partitions: topics.flatMap((t) => t.partitions.map((p) => ({ topic: t.name, partition: p.partitionId, leader: p.leader, replicas: p.replicas, isr: p.isr }))),
  };
}

async function withPollingAdmin<T>(connection: AdminConnection, body: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafkaFor(connection, pollRetry).admin();
  try {
    await admin.connect();
    return await body(admin);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

async function pollOnce(connection: AdminConnection, target: RollTarget, answered: boolean): Promise<RollPoll> {
  const poll: RollPoll = {};
  if (!answered) {
    // Seeded with this broker alone, connecting is a metadata round trip with it over mutual TLS.
    await withPollingAdmin({ ...connection, brokers: [target.address] }, async () => undefined)
      .catch((error: Error) => (poll.unanswered = error.message));
  }
  try {
    poll.gaps = replicationGaps(await withPollingAdmin(connection, readClusterView), target.nodeIds);
  } catch (error) {
    poll.metadataError = (error as Error).message;
  }
  return poll;
}

function unfinished(target: RollTarget, poll: RollPoll | undefined): string {
  if (!poll) return 'no poll completed';
  const parts: string[] = [];
  if (poll.unanswered !== undefined) parts.push(`it does not answer at ${target.address} (${poll.unanswered})`);
  if (poll.gaps) parts.push(describeGaps(poll.gaps));
  if (poll.metadataError !== undefined) parts.push(`the cluster's metadata could not be read (${poll.metadataError})`);
  return parts.join('; ');
}

/** Resolves once the broker is back and the cluster whole; rejects after timeoutMs, saying what was missing. */
export async function waitUntilRejoined(connection: AdminConnection, target: RollTarget, options: RollWaitOptions): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let answered = false;
  let last: RollPoll | undefined;
  for (;;) {
    last = await pollOnce(connection, target, answered);
    answered ||= last.unanswered === undefined;
    options.onPoll?.(last);
    if (answered && last.gaps && isWhole(last.gaps)) return;
    if (Date.now() >= deadline) break;
    await new Promise((resolve) => setTimeout(resolve, Math.min(options.pollMs ?? 2_000, Math.max(0, deadline - Date.now()))));
  }
  throw new Error(
    `broker ${target.nodeId} did not rejoin within ${Math.round(options.timeoutMs / 1000)} s: ${unfinished(target, last)}. ` +
    'The brokers after it were not touched. See why (docker logs of its container), then run `pulumi up` again; ' +
    'kafka.rollTimeoutSeconds sets how long to wait.',
  );
}

export interface RollGateProps extends RollTarget {
  /** Broker n's container id: a replaced container has a new id, which makes the gate update, i.e. wait. */
  containerId: string;
  connection: AdminConnection;
  timeoutSeconds: number;
  /**
   * On the first `up` the nodes start together: a node of a quorum cannot answer before a majority
   * runs, and the next node waits for this gate. So only the last node's gate waits on create (for
   * the whole cluster); every gate waits on update.
   */
  waitOnCreate: boolean;
}

const wait = (p: RollGateProps): Promise<void> =>
  waitUntilRejoined(p.connection, { nodeId: p.nodeId, address: p.address, nodeIds: p.nodeIds }, { timeoutMs: p.timeoutSeconds * 1000 });

const changed = (olds: RollGateProps, news: RollGateProps): boolean =>
  olds.containerId !== news.containerId || olds.nodeId !== news.nodeId || olds.address !== news.address
  || olds.timeoutSeconds !== news.timeoutSeconds || olds.waitOnCreate !== news.waitOnCreate
  || JSON.stringify(olds.nodeIds) !== JSON.stringify(news.nodeIds)
  || JSON.stringify([olds.connection.brokers, olds.connection.ca, olds.connection.cert, olds.connection.key])
    !== JSON.stringify([news.connection.brokers, news.connection.ca, news.connection.cert, news.connection.key]);

export const rollGateProvider: pulumi.dynamic.ResourceProvider<RollGateProps, RollGateProps> = {
  async create(inputs) {
    if (inputs.waitOnCreate) await wait(inputs);
    return { id: `broker-${inputs.nodeId}`, outs: inputs };
  },
  async diff(_id, olds, news) {
    return { changes: changed(olds, news), replaces: [] };
  },
  async update(_id, _olds, news) {
    await wait(news);
    return { outs: news };
  },
  // Nothing exists outside the state: the gate is a wait, not a thing.
  async read(id, props) {
    return { id, props };
  },
  async delete() {},
};

export interface BrokerRollGateArgs {
  nodeId: number;
  containerId: pulumi.Input<string>;
  address: string;
  nodeIds: number[];
  connection: pulumi.Input<AdminConnection>;
  timeoutSeconds: number;
  waitOnCreate: boolean;
}

export class BrokerRollGate extends pulumi.dynamic.Resource {
  declare readonly containerId: pulumi.Output<string>;

  constructor(name: string, args: BrokerRollGateArgs, opts?: pulumi.CustomResourceOptions) {
    super(rollGateProvider, name, { ...args }, { ...opts, additionalSecretOutputs: ['connection'] }, 'kafka', 'BrokerRollGate');
  }
}
