// The layout rules the code relies on: deployed code (infra/, services/, certs/) never imports test
// tooling (tools/, test/, bench/), and no module of it imports itself through a cycle.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '../../infra/config/project-package';

const deployed = ['infra', 'services', 'certs'];

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) return sources(full);
    return full.endsWith('.ts') && !full.endsWith('.d.ts') ? [full] : [];
  });
}

/** Relative imports of a file (static `import`/`export … from`, type-only ones included), resolved to files. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^(?:import|export)\s[^'"]*?from\s+'(\.[^']+)'/gm)].map((m) => {
    const target = path.resolve(path.dirname(file), m[1]!);
    for (const candidate of [`${target}.ts`, path.join(target, 'index.ts')]) {
      try {
        if (statSync(candidate).isFile()) return candidate;
      } catch {
        // try the next form
      }
    }
    return target;
  });
}

describe('code layout', () => {
  const files = deployed.flatMap((d) => sources(path.join(repoRoot, d)));
  const graph = new Map(files.map((f) => [f, importsOf(f)]));
  const rel = (f: string): string => path.relative(repoRoot, f);

  it('deployed code imports nothing from tools/, test/ or bench/', () => {
    const offending = [...graph].flatMap(([file, targets]) =>
      targets.filter((t) => /^(tools|test|bench)\//.test(rel(t))).map((t) => `${rel(file)} → ${rel(t)}`));
    assert.deepEqual(offending, []);
  });

  it('has no import cycle', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (file: string, trail: string[]): void => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'open') {
        cycles.push([...trail.slice(trail.indexOf(file)), file].map(rel).join(' → '));
        return;
      }
      state.set(file, 'open');
      for (const next of graph.get(file) ?? []) if (graph.has(next)) visit(next, [...trail, file]);
      state.set(file, 'done');
    };
    for (const file of graph.keys()) visit(file, []);
    assert.deepEqual(cycles, []);
  });
});
