// The gate between two consumer replicas of a rolling update, like the brokers' (broker-roll-gate.ts):
// consumer n+1's container depends on the gate of consumer n, whose input is consumer n's container
// id. When that container was replaced, the gate's update returns only once every consumer group
// of the service is Stable with all replicas as members and its lag is draining, so windows keep
// flowing while the replicas are replaced one by one.
import * as pulumi from '@pulumi/pulumi';
import type { Admin } from 'kafkajs';
import { kafkaFor, type AdminConnection } from './connection';
import { groupProblems, type GroupView } from './group-progress';

export interface ConsumedGroup {
  groupId: string;
  topic: string;
}

export async function readGroupView(admin: Admin, group: ConsumedGroup): Promise<GroupView> {
  const { groups } = await admin.describeGroups([group.groupId]);
  const described = groups[0];
  const [committed] = await admin.fetchOffsets({ groupId: group.groupId, topics: [group.topic] });
  const ends = await admin.fetchTopicOffsets(group.topic);
  return {
    groupId: group.groupId,
    state: described?.state ?? 'Dead',
    members: described?.members.length ?? 0,
    partitions: ends.map((e) => ({
      topic: group.topic,
      partition: e.partition,
      end: Number(e.high),
      committed: Number(committed?.partitions.find((p) => p.partition === e.partition)?.offset ?? -1),
    })),
  };
}

export interface GroupWait {
  groups: ConsumedGroup[];
  members: number;
  timeoutMs: number;
  pollMs?: number;
  onPoll?: (problems: string[]) => void;
}

/** Resolves once every group is stable, complete and draining; rejects after timeoutMs naming what was not. */
export async function waitUntilGroupsSettled(connection: AdminConnection, replica: string, wait: GroupWait): Promise<void> {
  const deadline = Date.now() + wait.timeoutMs;
  const admin = kafkaFor(connection, { retries: 2, initialRetryTime: 200, maxRetryTime: 2_000 }).admin();
  const first = new Map<string, GroupView>();
  let problems: string[];
  await admin.connect();
  try {
    for (;;) {
      try {
        problems = [];
        for (const group of wait.groups) {
          const view = await readGroupView(admin, group);
          if (!first.has(group.groupId)) first.set(group.groupId, view);
          problems.push(...groupProblems(first.get(group.groupId)!, view, wait.members));
        }
      } catch (error) {
        problems = [`the groups could not be read (${(error as Error).message})`];
      }
      wait.onPoll?.(problems);
      if (problems.length === 0) return;
      if (Date.now() >= deadline) break;
      await new Promise((resolve) => setTimeout(resolve, Math.min(wait.pollMs ?? 2_000, Math.max(0, deadline - Date.now()))));
    }
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
  throw new Error(
    `consumer ${replica} was replaced but its groups did not settle within ${Math.round(wait.timeoutMs / 1000)} s: ${problems.join('; ')}. ` +
    'The replicas after it were not touched. See why (docker logs of its container), then run `pulumi up` again.',
  );
}

export interface ConsumerRollGateProps {
  /** The replica's name, for messages (its container's resource name). */
  replica: string;
  /** The replica's container id: a replaced container has a new id, which makes the gate update, i.e. wait. */
  containerId: string;
  groups: ConsumedGroup[];
  /** Replicas: every group must have this many members. */
  members: number;
  connection: AdminConnection;
  timeoutSeconds: number;
}

const wait = (p: ConsumerRollGateProps): Promise<void> =>
  waitUntilGroupsSettled(p.connection, p.replica, { groups: p.groups, members: p.members, timeoutMs: p.timeoutSeconds * 1000 });

export const consumerRollGateProvider: pulumi.dynamic.ResourceProvider<ConsumerRollGateProps, ConsumerRollGateProps> = {
  // The first `up` starts the replicas one after another with nothing to keep flowing yet: no wait.
  async create(inputs) {
    return { id: inputs.replica, outs: inputs };
  },
  async diff(_id, olds, news) {
    const changes = olds.containerId !== news.containerId || olds.replica !== news.replica || olds.members !== news.members
      || olds.timeoutSeconds !== news.timeoutSeconds
      || JSON.stringify(olds.groups.map((g) => [g.groupId, g.topic])) !== JSON.stringify(news.groups.map((g) => [g.groupId, g.topic]))
      || JSON.stringify([olds.connection.brokers, olds.connection.ca, olds.connection.cert, olds.connection.key])
        !== JSON.stringify([news.connection.brokers, news.connection.ca, news.connection.cert, news.connection.key]);
    return { changes, replaces: [] };
  },
  async update(_id, _olds, news) {
    await wait(news);
    return { outs: news };
  },
  async read(id, props) {
    return { id, props };
  },
  async delete() {},
};

export interface ConsumerRollGateArgs {
  replica: string;
  containerId: pulumi.Input<string>;
  groups: pulumi.Input<ConsumedGroup[]>;
  members: number;
  connection: pulumi.Input<AdminConnection>;
  timeoutSeconds: number;
}

export class ConsumerRollGate extends pulumi.dynamic.Resource {
  constructor(name: string, args: ConsumerRollGateArgs, opts?: pulumi.CustomResourceOptions) {
    super(consumerRollGateProvider, name, { ...args }, { ...opts, additionalSecretOutputs: ['connection'] }, 'kafka', 'ConsumerRollGate');
  }
}
