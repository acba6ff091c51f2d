// Transaction requests follow a moving coordinator (services/core/kafkajs-txn-coordinator-fix.ts):
// driven against fake brokers, and through kafkajs' own Cluster.findGroupCoordinator, which gives
// up at once on a coordinator whose name does not resolve (a stopped broker container).
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { coordinatorBusy, coordinatorMoved, followingCoordinator, installTxnCoordinatorFix, type FollowOptions } from '../../services/core/kafkajs-txn-coordinator-fix';

const load = createRequire(require.resolve('kafkajs'));
const { createErrorFromCode } = load('./src/protocol/error') as { createErrorFromCode: (code: number) => Error };
const { KafkaJSConnectionError } = load('./src/errors') as { KafkaJSConnectionError: new (message: string, extra?: object) => Error };
const createRetry = load('./src/retry') as (options: object) => unknown;
const NOT_COORDINATOR = 16;
const COORDINATOR_LOAD_IN_PROGRESS = 14;
const INVALID_PRODUCER_EPOCH = 47;
const CONCURRENT_TRANSACTIONS = 51;
const fast: FollowOptions = { backoffMs: [1, 1, 1, 1], sleep: async () => undefined };

/** A coordinator broker whose endTxn answers with the given errors first, then succeeds. */
function coordinator(nodeId: number, failures: Error[] = []) {
  const calls: string[] = [];
  return {
    nodeId,
    calls,
    async endTxn(request: { transactionResult: boolean }) {
      calls.push(`endTxn ${request.transactionResult}`);
      const failure = failures.shift();
      if (failure) throw failure;
      return { nodeId };
    },
    async addPartitionsToTxn() {
      calls.push('addPartitionsToTxn');
      return { nodeId };
    },
    describe() {
      return `broker ${this.nodeId}`;
    },
  };
}

describe('transaction requests follow the coordinator (services/core/kafkajs-txn-coordinator-fix)', () => {
  it('an EndTxn refused with NOT_COORDINATOR goes to the coordinator found anew', async () => {
    const old = coordinator(3, [createErrorFromCode(NOT_COORDINATOR)]);
    const moved = coordinator(1);
    const broker = followingCoordinator(old, async () => moved, fast) as unknown as ReturnType<typeof coordinator>;
    assert.deepEqual(await broker.endTxn({ transactionResult: true }), { nodeId: 1 });
    assert.deepEqual([old.calls, moved.calls], [['endTxn true'], ['endTxn true']]);
  });

  it('a coordinator still loading is asked again until it answers', async () => {
    const loading = coordinator(2, [createErrorFromCode(COORDINATOR_LOAD_IN_PROGRESS), createErrorFromCode(COORDINATOR_LOAD_IN_PROGRESS)]);
    const broker = followingCoordinator(loading, async () => loading, fast) as unknown as ReturnType<typeof coordinator>;
    assert.deepEqual(await broker.endTxn({ transactionResult: false }), { nodeId: 2 });
    assert.equal(loading.calls.length, 3);
  });

  it('a coordinator still completing the previous transaction (CONCURRENT_TRANSACTIONS) is asked again after short waits, without a new lookup', async () => {
    const busy = coordinator(1, [createErrorFromCode(CONCURRENT_TRANSACTIONS), createErrorFromCode(CONCURRENT_TRANSACTIONS)]);
    const waits: number[] = [];
    const options: FollowOptions = { backoffMs: [500, 500], busyBackoffMs: [5, 10, 20], sleep: async (ms) => void waits.push(ms) };
    const broker = followingCoordinator(busy, async () => assert.fail('the coordinator did not move: no lookup'), options) as unknown as ReturnType<typeof coordinator>;
    assert.deepEqual(await broker.endTxn({ transactionResult: true }), { nodeId: 1 });
    assert.deepEqual([busy.calls.length, waits], [3, [5, 10]]);
  });

  it('a coordinator busy for longer than its short waits is looked up again on the long schedule, then the error goes up', async () => {
    const stuck = coordinator(1, Array.from({ length: 10 }, () => createErrorFromCode(CONCURRENT_TRANSACTIONS)));
    const waits: number[] = [];
    let lookups = 0;
    const options: FollowOptions = { backoffMs: [500, 600], busyBackoffMs: [5], sleep: async (ms) => void waits.push(ms) };
    const broker = followingCoordinator(stuck, async () => (lookups++, stuck), options) as unknown as ReturnType<typeof coordinator>;
    await assert.rejects(broker.endTxn({ transactionResult: true }), (error: Error & { type?: string }) => error.type === 'CONCURRENT_TRANSACTIONS');
    assert.deepEqual([stuck.calls.length, waits, lookups], [4, [5, 500, 600], 2]);
  });

  it('a fencing error goes up at once: the transaction is not this producer\'s any more', async () => {
    const fenced = coordinator(1, [createErrorFromCode(INVALID_PRODUCER_EPOCH)]);
    const broker = followingCoordinator(fenced, async () => assert.fail('no new lookup for a fencing error'), fast) as unknown as ReturnType<typeof coordinator>;
    await assert.rejects(broker.endTxn({ transactionResult: true }), (error: Error & { type?: string }) => error.type === 'INVALID_PRODUCER_EPOCH');
    assert.equal(fenced.calls.length, 1);
  });

  it('gives up with the last error once its backoff is used up', async () => {
    const gone = coordinator(3, Array.from({ length: 10 }, () => createErrorFromCode(NOT_COORDINATOR)));
    const broker = followingCoordinator(gone, async () => gone, fast) as unknown as ReturnType<typeof coordinator>;
    await assert.rejects(broker.endTxn({ transactionResult: true }), (error: Error & { type?: string }) => error.type === 'NOT_COORDINATOR_FOR_GROUP');
    assert.equal(gone.calls.length, fast.backoffMs.length + 1);
  });

  it('other methods are the current coordinator\'s own, called on it', async () => {
    const old = coordinator(3, [createErrorFromCode(NOT_COORDINATOR)]);
    const moved = coordinator(1);
    const broker = followingCoordinator(old, async () => moved, fast) as unknown as ReturnType<typeof coordinator>;
    assert.equal(broker.describe(), 'broker 3');
    await broker.endTxn({ transactionResult: true });
    assert.equal(broker.describe(), 'broker 1');
    assert.equal(broker.nodeId, 1);
  });

  it('knows a move or an unreachable coordinator from anything else, also inside kafkajs\' wrappers', () => {
    // As kafkajs' retrier wraps an error it gives up on (src/retry: the cause kept).
    const { KafkaJSNonRetriableError } = load('./src/errors') as { KafkaJSNonRetriableError: new (e: Error, extra: { cause: Error }) => Error };
    const wrapped = (e: Error): Error => new KafkaJSNonRetriableError(e, { cause: e });
    assert.equal(coordinatorMoved(wrapped(new KafkaJSConnectionError('getaddrinfo ENOTFOUND kafka-3'))), true);
    assert.equal(coordinatorMoved(createErrorFromCode(NOT_COORDINATOR)), true);
    assert.equal(coordinatorMoved(wrapped(createErrorFromCode(INVALID_PRODUCER_EPOCH))), false);
    assert.equal(coordinatorMoved(new Error('anything')), false);
    assert.equal(coordinatorMoved(createErrorFromCode(CONCURRENT_TRANSACTIONS)), false);
    assert.equal(coordinatorBusy(wrapped(createErrorFromCode(CONCURRENT_TRANSACTIONS))), true);
    assert.equal(coordinatorBusy(createErrorFromCode(NOT_COORDINATOR)), false);
  });

  it('installed: kafkajs\' own findGroupCoordinator, which gives up on a coordinator name that does not resolve, finds the new one', async () => {
    installTxnCoordinatorFix(fast);
    const Cluster = load('./src/cluster') as { prototype: { findGroupCoordinator(this: unknown, request: object): Promise<ReturnType<typeof coordinator>> } };
    const live = coordinator(1);
    let lookups = 0;
    const cluster = {
      retrier: createRetry({ retries: 0 }),
      logger: { debug: () => undefined },
      refreshMetadata: async () => undefined,
      // The first answer names broker 3, stopped: its container's name no longer resolves.
      findGroupCoordinatorMetadata: async () => ({ coordinator: { nodeId: lookups++ === 0 ? 3 : 1 } }),
      findBroker: async ({ nodeId }: { nodeId: number }) => {
        if (nodeId === 3) throw new KafkaJSConnectionError('Connection error: getaddrinfo ENOTFOUND kafka-3', { broker: 'kafka-3:9092', code: 'ENOTFOUND' });
        return live;
      },
    };
    const broker = await Cluster.prototype.findGroupCoordinator.call(cluster, { groupId: 'producer-tx', coordinatorType: 1 });
    assert.deepEqual(await broker.endTxn({ transactionResult: true }), { nodeId: 1 });
    assert.equal(lookups, 2);
    await assert.rejects(
      Cluster.prototype.findGroupCoordinator.call({ ...cluster, findGroupCoordinatorMetadata: async () => ({ coordinator: { nodeId: 3 } }) }, { groupId: 'group', coordinatorType: 0 }),
      /ENOTFOUND/,
      'a group coordinator lookup keeps kafkajs\' own handling',
    );
  });
});
