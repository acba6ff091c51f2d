// What stands between a replaced consumer replica and the next one going down: its consumer groups
// must be stable with every replica a member again, and their lag must be draining. Pure: the
// consumer roll gate (consumer-roll-gate.ts) feeds it what the admin client reads.

export interface GroupPartition {
  topic: string;
  partition: number;
  /** The group's committed offset; -1 when it has none yet. */
  committed: number;
  /** The partition's end offset (high watermark). */
  end: number;
}

export interface GroupView {
  groupId: string;
  /** Kafka's group state: Stable, PreparingRebalance, CompletingRebalance, Empty, Dead. */
  state: string;
  members: number;
  partitions: GroupPartition[];
}

export const lagOf = (view: GroupView): number =>
  view.partitions.reduce((sum, p) => sum + Math.max(0, p.end - Math.max(0, p.committed)), 0);

const committedSum = (view: GroupView): number => view.partitions.reduce((sum, p) => sum + Math.max(0, p.committed), 0);

/**
 * Why the group is not yet back to normal, or [] when it is. Draining: offsets were committed since
 * `first` (the gate's first look), or at most one record per partition is left, which is the
 * commit marker a transactional producer writes after the last record (read_committed never sees it).
 */
export function groupProblems(first: GroupView, now: GroupView, expectedMembers: number): string[] {
  const problems: string[] = [];
  if (now.state !== 'Stable') problems.push(`group ${now.groupId} is ${now.state}`);
  if (now.members !== expectedMembers) problems.push(`group ${now.groupId} has ${now.members} of ${expectedMembers} members`);
  const lag = lagOf(now);
  if (lag > now.partitions.length && committedSum(now) <= committedSum(first)) {
    problems.push(`group ${now.groupId} has a lag of ${lag} and committed nothing since the replica was replaced`);
  }
  return problems;
}
