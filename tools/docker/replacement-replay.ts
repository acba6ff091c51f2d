// Runs a replacement plan (replacement-plan.ts) the way the engine schedules it: every step starts
// as soon as the steps it comes after have finished, independent steps at the same time. What a
// step does is the caller's: on the Docker engine a replace is stop, remove, create, start.
import type { ContainerSpec } from '../../infra/render/container-spec';
import type { ContainerRun } from './container-run';
import type { PlanStep } from './replacement-plan';

export interface ReplayActions {
  replace(name: string): Promise<void>;
  update(name: string): Promise<void>;
}

export interface StepTiming {
  name: string;
  change: PlanStep['change'];
  startedMs: number;
  finishedMs: number;
}

/** Runs every step; rejects with the first failure once the steps already running have settled. */
export async function replayPlan(plan: PlanStep[], actions: ReplayActions): Promise<StepTiming[]> {
  const t0 = Date.now();
  const timings: StepTiming[] = [];
  const finished = new Map<string, Promise<void>>();
  let failed: Error | undefined;
  const run = async (step: PlanStep): Promise<void> => {
    await Promise.all(step.after.map((d) => finished.get(d) ?? Promise.reject(new Error(`${step.name} comes after ${d}, which is not in the plan`))));
    // As the engine: once a step failed, nothing that has not started yet starts.
    if (failed) throw new Error(`${step.name}: not started, an earlier step failed`);
    const startedMs = Date.now() - t0;
    try {
      if (step.change === 'replace') await actions.replace(step.name);
      if (step.change === 'update') await actions.update(step.name);
    } catch (error) {
      failed ??= new Error(`${step.name} (${step.change}): ${(error as Error).message}`, { cause: error });
      throw error;
    }
    timings.push({ name: step.name, change: step.change, startedMs, finishedMs: Date.now() - t0 });
  };
  // The plan is in dependency order, so every step's predecessors are registered before it.
  for (const step of plan) finished.set(step.name, run(step));
  await Promise.allSettled(finished.values());
  if (failed) throw failed;
  return timings;
}

/**
 * A docker.Container replaced as the docker provider does it, delete-before-replace. The provider's
 * delete stops the container with `destroyGraceSeconds` as the timeout (the program sets 60: Kafka's
 * controlled shutdown, the consumer's abort, the producer's last commit), i.e. Docker's stop: the
 * stop signal (SIGTERM), then SIGKILL when the grace period runs out; then it removes it by force
 * (named volumes stay). Then the new spec is created and started. Like the program's containers with
 * `wait: false`, it does not wait for the healthcheck: what must wait is a gate's job. Returns the
 * replaced container's exit code (0 for a service that stopped cleanly on SIGTERM, 137 if killed).
 */
export async function replaceContainer(run: ContainerRun, spec: ContainerSpec, network: string, graceSeconds = 60): Promise<{ exitCode: number }> {
  await run.stop(spec.name, graceSeconds);
  const { ExitCode: exitCode } = (await run.inspect(spec.name)).State;
  await run.remove(spec.name);
  await run.create(spec, network);
  await run.start(spec.name, { wait: false });
  return { exitCode };
}
