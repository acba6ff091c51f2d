// Window arithmetic (services/consumer/windows.ts): which windows contain an event time.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { oldestStartContaining, type WindowSpec } from '../../services/consumer/windows';

/** The definition: every start s ≥ 0, a multiple of the advance, with s ≤ t < s + size. */
function startsByDefinition(spec: WindowSpec, t: number): number[] {
  const starts: number[] = [];
  for (let s = 0; s <= t; s += spec.advanceMs) if (t < s + spec.sizeMs) starts.push(s);
  return starts;
}

function startsFrom(spec: WindowSpec, t: number): number[] {
  const starts: number[] = [];
  for (let s = oldestStartContaining(spec, t); s <= t; s += spec.advanceMs) starts.push(s);
  return starts;
}

describe('oldestStartContaining', () => {
  it('gives exactly the windows containing t, for tumbling and hopping windows, near zero and on boundaries', () => {
    const specs: WindowSpec[] = [
      { kind: 'tumbling', sizeMs: 1000, advanceMs: 1000 },
      { kind: 'sliding', sizeMs: 3000, advanceMs: 1000 },
      { kind: 'sliding', sizeMs: 300, advanceMs: 60 },
    ];
    for (const spec of specs) {
      for (let t = 0; t < 7000; t += 7) assert.deepEqual(startsFrom(spec, t), startsByDefinition(spec, t), `${spec.sizeMs}/${spec.advanceMs} at ${t}`);
      for (const t of [999, 1000, 1001, 2999, 3000, 3001]) assert.deepEqual(startsFrom(spec, t), startsByDefinition(spec, t), `${spec.sizeMs}/${spec.advanceMs} at ${t}`);
    }
    assert.deepEqual(startsFrom(specs[1]!, 1_700_000_000_500), [1_699_999_998_000, 1_699_999_999_000, 1_700_000_000_000]);
  });
});
