// What stands between a restarted broker and the next one going down: brokers that have not
// (re)joined the cluster, and partitions whose in-sync replicas are not yet all of their replicas.
// Pure: the roll gate (broker-roll-gate.ts) feeds it what the admin client reads from metadata.

export interface PartitionView {
  topic: string;
  partition: number;
  /** -1: no leader (the partition is offline). */
  leader: number;
  replicas: number[];
  isr: number[];
}

export interface ClusterView {
  /**
   * The brokers in the metadata Kafka answers. In KRaft that is the registered, unfenced brokers
   * only: a broker is unfenced once it has caught up with the metadata log of the quorum.
   */
  brokers: number[];
  /** Every partition of every topic, Kafka's internal topics (__consumer_offsets, …) included. */
  partitions: PartitionView[];
}

export interface UnderReplicated extends PartitionView {
  /** Replicas not in the ISR. */
  missing: number[];
}

export interface ReplicationGaps {
  /** Expected brokers the metadata does not list. */
  missingBrokers: number[];
  /** Partitions without a leader or with a replica outside the ISR, in topic/partition order. */
  underReplicated: UnderReplicated[];
}

export function replicationGaps(view: ClusterView, expectedBrokers: readonly number[]): ReplicationGaps {
  const registered = new Set(view.brokers);
  const underReplicated = view.partitions
    .map((p) => ({ ...p, missing: p.replicas.filter((r) => !p.isr.includes(r)) }))
    .filter((p) => p.leader < 0 || p.missing.length > 0)
    .sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
  return { missingBrokers: expectedBrokers.filter((id) => !registered.has(id)).sort((a, b) => a - b), underReplicated };
}

export function isWhole(gaps: ReplicationGaps): boolean {
  return gaps.missingBrokers.length === 0 && gaps.underReplicated.length === 0;
}

/**
 * The gaps in words, e.g. `broker 2 is not registered; 4 partitions not fully replicated:
 * orders 0,1 (missing 2), __consumer_offsets 7 (no leader, missing 2,3)`. Partitions with the same
 * topic and the same shortfall are listed together so that 50 offsets partitions stay one line.
 */
export function describeGaps(gaps: ReplicationGaps): string {
  const parts: string[] = [];
  if (gaps.missingBrokers.length > 0) {
    const ids = gaps.missingBrokers.join(', ');
    parts.push(`${gaps.missingBrokers.length === 1 ? 'broker' : 'brokers'} ${ids} ${gaps.missingBrokers.length === 1 ? 'is' : 'are'} not registered`);
  }
  if (gaps.underReplicated.length > 0) {
    const groups = new Map<string, { topic: string; shortfall: string; partitions: number[] }>();
    for (const p of gaps.underReplicated) {
      const shortfall = [p.leader < 0 ? 'no leader' : '', p.missing.length > 0 ? `missing ${p.missing.join(',')}` : ''].filter(Boolean).join(', ');
      const key = `${p.topic}\u0000${shortfall}`;
      const group = groups.get(key) ?? { topic: p.topic, shortfall, partitions: [] };
      group.partitions.push(p.partition);
      groups.set(key, group);
    }
    const listed = [...groups.values()].map((g) => `${g.topic} ${g.partitions.join(',')} (${g.shortfall})`);
    const count = gaps.underReplicated.length;
    parts.push(`${count} ${count === 1 ? 'partition' : 'partitions'} not fully replicated: ${listed.join('; ')}`);
  }
  return parts.length > 0 ? parts.join('; ') : 'every broker registered and every partition fully replicated';
}
