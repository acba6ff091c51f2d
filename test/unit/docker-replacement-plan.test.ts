// The engine's order of an update, as the container tests replay it: what is replaced, what updates
// because an input changed, what waits for what, and what runs side by side.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planWaves, replacementPlan, type PlannedResource } from '../../tools/docker/replacement-plan';
import { replayPlan } from '../../tools/docker/replacement-replay';

/** The prod shape of the program: three brokers chained by gates, topics after the last gate, services after topics. */
function prodShape(replaced: string[]): PlannedResource[] {
  const change = (name: string): PlannedResource['change'] => (replaced.includes(name) ? 'replace' : 'same');
  return [
    { name: 'kafka-1', change: change('kafka-1') },
    { name: 'gate-1', change: 'same', inputsFrom: ['kafka-1'] },
    { name: 'kafka-2', change: change('kafka-2'), dependsOn: ['gate-1'] },
    { name: 'gate-2', change: 'same', inputsFrom: ['kafka-2'] },
    { name: 'kafka-3', change: change('kafka-3'), dependsOn: ['gate-2'] },
    { name: 'gate-3', change: 'same', inputsFrom: ['kafka-3'] },
    { name: 'topics', change: 'same', inputsFrom: ['gate-1', 'gate-2', 'gate-3'] },
    { name: 'consumer-1', change: change('consumer-1'), dependsOn: ['topics'] },
    { name: 'prometheus', change: change('prometheus') },
  ];
}

describe('replacement plan', () => {
  it('all brokers changed: one at a time, each after the previous gate; an independent container beside the first', () => {
    const plan = replacementPlan(prodShape(['kafka-1', 'kafka-2', 'kafka-3', 'prometheus']));
    assert.deepEqual(plan.map((s) => `${s.name}:${s.change}`), [
      'kafka-1:replace', 'gate-1:update', 'kafka-2:replace', 'gate-2:update', 'kafka-3:replace', 'gate-3:update', 'topics:same', 'consumer-1:same', 'prometheus:replace',
    ]);
    assert.deepEqual(planWaves(plan), [['kafka-1', 'prometheus'], ['gate-1'], ['kafka-2'], ['gate-2'], ['kafka-3'], ['gate-3']]);
  });

  it('one broker changed: only it and its gate step', () => {
    const plan = replacementPlan(prodShape(['kafka-2']));
    assert.deepEqual(planWaves(plan), [['kafka-2'], ['gate-2']]);
    assert.deepEqual(plan.filter((s) => s.change !== 'same').map((s) => s.name), ['kafka-2', 'gate-2']);
  });

  it('a dependent changed too steps after its dependencies', () => {
    assert.deepEqual(planWaves(replacementPlan(prodShape(['kafka-1', 'kafka-2', 'kafka-3', 'consumer-1']))).at(-1), ['consumer-1']);
  });

  it('refuses unknown dependencies, cycles and names used twice', () => {
    assert.throws(() => replacementPlan([{ name: 'a', change: 'same', dependsOn: ['b'] }]), /a depends on unknown b/);
    assert.throws(() => replacementPlan([{ name: 'a', change: 'same', dependsOn: ['b'] }, { name: 'b', change: 'same', inputsFrom: ['a'] }]), /dependency cycle: a -> b -> a/);
    assert.throws(() => replacementPlan([{ name: 'a', change: 'same' }, { name: 'a', change: 'replace' }]), /resources named twice: a/);
  });
});

describe('replaying a plan', () => {
  it('starts a step only once its predecessors finished, and independent steps side by side', async () => {
    const events: string[] = [];
    let prometheusStarted = (): void => undefined;
    const gate = new Promise<void>((resolve) => (prometheusStarted = resolve));
    const act = async (name: string): Promise<void> => {
      events.push(`start ${name}`);
      // kafka-1 finishes only once prometheus has started: proof they ran at the same time.
      if (name === 'kafka-1') await gate;
      if (name === 'prometheus') prometheusStarted();
      await new Promise((r) => setImmediate(r));
      events.push(`end ${name}`);
    };
    const timings = await replayPlan(replacementPlan(prodShape(['kafka-1', 'kafka-2', 'kafka-3', 'prometheus'])), { replace: act, update: act });
    const at = (e: string): number => events.indexOf(e);
    assert.ok(at('start prometheus') < at('end kafka-1'));
    for (const [before, after] of [['kafka-1', 'gate-1'], ['gate-1', 'kafka-2'], ['kafka-2', 'gate-2'], ['gate-2', 'kafka-3'], ['kafka-3', 'gate-3']]) {
      assert.ok(at(`end ${before}`) < at(`start ${after}`), `${after} started before ${before} finished`);
    }
    assert.deepEqual(timings.map((t) => t.name).sort(), ['consumer-1', 'gate-1', 'gate-2', 'gate-3', 'kafka-1', 'kafka-2', 'kafka-3', 'prometheus', 'topics']);
  });

  it('a failed step stops everything after it, and says which step failed', async () => {
    const started: string[] = [];
    const act = async (name: string): Promise<void> => {
      started.push(name);
      if (name === 'gate-1') throw new Error('broker 1 did not rejoin');
    };
    await assert.rejects(replayPlan(replacementPlan(prodShape(['kafka-1', 'kafka-2', 'kafka-3'])), { replace: act, update: act }), /^Error: gate-1 \(update\): broker 1 did not rejoin/);
    assert.deepEqual(started, ['kafka-1', 'gate-1']);
  });
});
