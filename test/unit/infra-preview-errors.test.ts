// `pulumi preview` with a bad stack value: the program is started the way the CLI starts it
// (@pulumi/pulumi's language-host entry, against a stand-in engine on loopback gRPC), and what the
// engine would print is the key-named message alone: no "unhandled exception", no stack frame.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { repoRoot } from '../../tools/kafka/kafka-runtime';
import { runProgramUnderFakeEngine } from '../support/fake-pulumi-engine';

describe('config errors at preview', () => {
  it('end the program with every problem named by its key, and no stack trace', async () => {
    const run = await runProgramUnderFakeEngine({
      root: repoRoot,
      project: 'ecommerce-pipeline',
      stack: 'dev',
      config: {
        'ecommerce-pipeline:kafka': JSON.stringify({ brokers: 2 }),
        'ecommerce-pipeline:monitoring': JSON.stringify({ grafanaPort: 'three thousand' }),
      },
    });
    const errors = run.logs.filter((l) => l.severity === 'error').map((l) => l.message);
    assert.notEqual(run.exitCode, 0, 'the program must fail');
    assert.equal(errors.length, 1, `one error, got:\n${errors.join('\n---\n')}\n${run.stderr}`);
    const [error] = errors as [string];
    assert.match(error, /^invalid stack configuration:\n/);
    assert.match(error, /ecommerce-pipeline:kafka\.brokers=2 must be 1 or at least 3/);
    assert.match(error, /ecommerce-pipeline:monitoring\.grafanaPort/);
    assert.doesNotMatch(error, /unhandled exception|StackConfigError|\n\s+at /, 'no exception name or stack frame');
  });
});
