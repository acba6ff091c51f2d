// kafkajs 2.2.4 sends a transaction's requests to its coordinator once: AddPartitionsToTxn,
// AddOffsetsToTxn and above all EndTxn (commit, abort) fail at the first NOT_COORDINATOR,
// COORDINATOR_LOAD_IN_PROGRESS or connection error. Its coordinator lookup gives up at once too when
// the broker it names cannot be resolved (a stopped container's name: getaddrinfo ENOTFOUND), as it
// retries only ECONNREFUSED. During a broker stop or roll the transaction coordinator moves, so a
// commit failed and the producer stopped with exit code 4 (prod container stack, one broker stopped
// mid-stream), although nothing was wrong but the coordinator's address.
//
// This wraps Cluster.findGroupCoordinator for transaction coordinators: the broker it returns
// re-sends those three requests, after a short backoff, to the coordinator found anew, as the Java
// producer does, for as long as the error says the coordinator moved or is unreachable. A
// coordinator still completing the previous transaction (CONCURRENT_TRANSACTIONS: its markers are
// being written, a few milliseconds with one broker) has not moved: the request goes to it again
// after a short wait, without a new lookup, as the Java producer retries AddPartitionsToTxn after
// 20 ms. The producer met it about once in ten transactions, each costing a 50 ms wait and a
// lookup while the next batch waited (docs/benchmarks.md, 2026-12-08). Sending them
// again is safe: the coordinator answers a repeated AddPartitionsToTxn or AddOffsetsToTxn the same
// way, and a repeated EndTxn for a transaction it already completed the same way (a retry) with
// success; a transaction it aborted meanwhile (timed out) is refused with a fencing error, which
// goes up as it is. Other requests (FindCoordinator for groups, InitProducerId) keep kafkajs' own
// handling. Loads nothing of kafkajs at import time (see kafkajs-send-fix.ts).
import { createRequire } from 'node:module';

const TRANSACTION = 1;
const requestsToFollow = ['addPartitionsToTxn', 'addOffsetsToTxn', 'endTxn'] as const;
/** Kafka's error codes: COORDINATOR_LOAD_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR (kafkajs names them after groups). */
const movedCodes = new Set([14, 15, 16]);
const CONCURRENT_TRANSACTIONS = 51;
const unreachableNames = new Set(['KafkaJSConnectionError', 'KafkaJSConnectionClosedError', 'KafkaJSRequestTimeoutError', 'KafkaJSBrokerNotFound', 'KafkaJSGroupCoordinatorNotFound']);

interface CoordinatorRequest {
  groupId: string;
  coordinatorType?: number;
}
type BrokerLike = Record<string, unknown>;
type FindCoordinator = (this: unknown, request: CoordinatorRequest) => Promise<BrokerLike>;

export interface FollowOptions {
  /** Waits between attempts, in ms; once used up, the last error goes up. */
  backoffMs: readonly number[];
  /** Waits between attempts while the coordinator is busy with the previous transaction (CONCURRENT_TRANSACTIONS); backoffMs once used up. */
  busyBackoffMs?: readonly number[];
  sleep?: (ms: number) => Promise<void>;
}

/** ~60 s in all: a broker's controlled shutdown and a coordinator's load fit in it. */
export const defaultFollow: FollowOptions = {
  backoffMs: [50, 100, 200, 400, 800, 1_000, 1_500, 2_000, 2_000, 3_000, 3_000, 5_000, 5_000, 5_000, 5_000, 5_000, 5_000, 5_000, 5_000],
  busyBackoffMs: [5, 10, 10, 20, 20, 20, 50, 50, 100],
};

/** An error and those it wraps (kafkajs' retrier keeps the cause). */
function* chain(error: unknown): Generator<Error> {
  for (let e: unknown = error; e instanceof Error; e = (e as { originalError?: unknown }).originalError ?? e.cause) yield e;
}

const protocolCode = (e: Error): number | undefined => (e.name === 'KafkaJSProtocolError' ? Number((e as { code?: unknown }).code) : undefined);

/** Whether an error (or one it wraps) says the transaction coordinator moved, is loading, or cannot be reached. */
export function coordinatorMoved(error: unknown): boolean {
  for (const e of chain(error)) if (movedCodes.has(protocolCode(e) ?? -1) || unreachableNames.has(e.name)) return true;
  return false;
}

/** Whether an error (or one it wraps) says the coordinator is still completing the previous transaction. */
export function coordinatorBusy(error: unknown): boolean {
  for (const e of chain(error)) if (protocolCode(e) === CONCURRENT_TRANSACTIONS) return true;
  return false;
}

/**
 * The coordinator broker `first`, whose transaction requests follow the coordinator: on an error
 * that says it moved, the coordinator is found anew with `find` and the request sent there.
 */
export function followingCoordinator(first: BrokerLike, find: () => Promise<BrokerLike>, options: FollowOptions = defaultFollow): BrokerLike {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  let current = first;
  const followed = new Map<string, (...args: unknown[]) => Promise<unknown>>();
  for (const name of requestsToFollow) {
    followed.set(name, async (...args: unknown[]): Promise<unknown> => {
      const busyBackoffMs = options.busyBackoffMs ?? [];
      for (let attempt = 0, busy = 0; ;) {
        try {
          return await (current[name] as (...a: unknown[]) => Promise<unknown>).apply(current, args);
        } catch (error) {
          // Busy, not moved: the same coordinator again, soon.
          if (coordinatorBusy(error) && busy < busyBackoffMs.length) {
            await sleep(busyBackoffMs[busy++]!);
            continue;
          }
          const delay = options.backoffMs[attempt];
          if (!(coordinatorMoved(error) || coordinatorBusy(error)) || delay === undefined) throw error;
          await sleep(delay);
          current = await findAgain(find, options, sleep, attempt).catch(() => current);
          attempt++;
        }
      }
    });
  }
  // Everything else is the current coordinator's own, called on it (its methods use private state).
  return new Proxy(first, {
    get(_target, property) {
      if (typeof property === 'string' && followed.has(property)) return followed.get(property);
      const value = current[property as string];
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(current) : value;
    },
  });
}

/** The coordinator found anew; a lookup that fails because of the move is tried again within the same budget. */
async function findAgain(find: () => Promise<BrokerLike>, options: FollowOptions, sleep: (ms: number) => Promise<void>, from: number): Promise<BrokerLike> {
  for (let attempt = from + 1; ; attempt++) {
    try {
      return await find();
    } catch (error) {
      const delay = options.backoffMs[attempt];
      if (!coordinatorMoved(error) || delay === undefined) throw error;
      await sleep(delay);
    }
  }
}

const fixed = Symbol.for('ecommerce-pipeline.kafkajs-txn-coordinator-fix');

/** Wraps kafkajs' Cluster.findGroupCoordinator for transaction coordinators; idempotent. */
export function installTxnCoordinatorFix(options: FollowOptions = defaultFollow): void {
  const Cluster = createRequire(require.resolve('kafkajs'))('./src/cluster') as { prototype: { findGroupCoordinator: FindCoordinator & { [fixed]?: true } } };
  const original = Cluster.prototype.findGroupCoordinator;
  if (typeof original !== 'function') throw new Error('kafkajs Cluster.findGroupCoordinator is missing: the transaction coordinator fix does not fit this kafkajs version');
  if (original[fixed]) return;
  const patched: FindCoordinator = async function (this: unknown, request) {
    if (request.coordinatorType !== TRANSACTION) return original.call(this, request);
    const find = (): Promise<BrokerLike> => original.call(this, request);
    const first = await findAgain(find, options, options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))), -1);
    return followingCoordinator(first, find, options);
  };
  Cluster.prototype.findGroupCoordinator = Object.assign(patched, { [fixed]: true as const });
}
