// How the Pulumi engine orders an update, as the container tests replay it: a resource's step
// starts once every resource it depends on (dependsOn, and every resource an input comes from) has
// finished its own step; resources that do not depend on each other step in parallel. A replaced
// docker.Container is deleted right before it is created again (delete-before-replace), when its
// turn comes. A resource whose input is a replaced resource's output (a gate's container id) sees a
// new value: it updates. Pure: tools/docker/replacement-replay.ts runs a plan on a real engine.

export type Change = 'replace' | 'update' | 'same';

export interface PlannedResource {
  name: string;
  /** What the program's change does to this resource by itself. */
  change: Change;
  /** Explicit dependsOn. */
  dependsOn?: string[];
  /** Resources whose outputs feed this one's inputs. */
  inputsFrom?: string[];
}

export interface PlanStep {
  name: string;
  /** After propagation: `same` becomes `update` when an input comes from a replaced resource. */
  change: Change;
  /** Steps that must finish before this one starts. */
  after: string[];
}

/** The steps in an order the engine could take them (dependencies first), or an error naming the problem. */
export function replacementPlan(resources: PlannedResource[]): PlanStep[] {
  const byName = new Map(resources.map((r) => [r.name, r]));
  if (byName.size !== resources.length) {
    const seen = new Set<string>();
    const twice = resources.map((r) => r.name).filter((n) => seen.has(n) || !seen.add(n));
    throw new Error(`resources named twice: ${[...new Set(twice)].join(', ')}`);
  }
  for (const r of resources) {
    const unknown = [...(r.dependsOn ?? []), ...(r.inputsFrom ?? [])].filter((d) => !byName.has(d));
    if (unknown.length > 0) throw new Error(`${r.name} depends on unknown ${unknown.join(', ')}`);
  }
  const ordered: PlanStep[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, path: string[]): void => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') throw new Error(`dependency cycle: ${[...path.slice(path.indexOf(name)), name].join(' -> ')}`);
    state.set(name, 'visiting');
    const r = byName.get(name)!;
    const after = [...new Set([...(r.dependsOn ?? []), ...(r.inputsFrom ?? [])])];
    for (const d of after) visit(d, [...path, name]);
    const fedByReplaced = (r.inputsFrom ?? []).some((d) => ordered.find((s) => s.name === d)?.change === 'replace');
    ordered.push({ name, change: r.change === 'same' && fedByReplaced ? 'update' : r.change, after });
    state.set(name, 'done');
  };
  for (const r of resources) visit(r.name, []);
  return ordered;
}

/**
 * The plan's critical path in waves: wave k holds the changing steps whose longest chain of changing
 * dependencies has k steps before it. Steps in one wave may run at the same time; unchanged steps
 * take no time and are left out.
 */
export function planWaves(plan: PlanStep[]): string[][] {
  const depth = new Map<string, number>();
  for (const step of plan) {
    const before = Math.max(-1, ...step.after.map((d) => depth.get(d) ?? -1));
    depth.set(step.name, step.change === 'same' ? before : before + 1);
  }
  const waves: string[][] = [];
  for (const step of plan) {
    if (step.change !== 'same') (waves[depth.get(step.name)!] ??= []).push(step.name);
  }
  return waves;
}
