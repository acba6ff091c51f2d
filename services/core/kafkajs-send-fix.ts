// kafkajs 2.2.4 can write a partition's messages twice in one sendBatch, as new records, even with
// idempotence and inside a transaction. Its sendMessages sends one request per leader broker in
// parallel and awaits them with Promise.all; when one fails (a CONCURRENT_TRANSACTIONS answer to
// AddPartitionsToTxn, common when several brokers' requests add partitions to one transaction at
// once; a leader that stopped), the retry starts at once, while another broker's produce request
// is still in flight. That broker has no answer recorded yet, so the retry sends its partitions
// again, after the first request, with the sequence numbers that follow it: the broker takes them
// as new records. Seen on the prod container stack: stage 1 committed a raw batch twice in one
// transaction, and the windows over-counted.
//
// The fix makes each attempt wait until every request it started has finished before its failure
// goes on to the retrier, so the retry only sends to brokers that really failed; and it sends a
// producer's AddPartitionsToTxn requests one at a time (serialAddPartitions), which removes most of
// those CONCURRENT_TRANSACTIONS refusals and the 300 ms retries they cost. It wraps
// kafkajs' sendMessages factory, so it must be in place before kafkajs loads its producer: each
// service's entry point imports ./kafkajs-fixes first, and createKafka refuses to run without it.
import { createRequire } from 'node:module';

interface EosManager {
  acquireBrokerLock(broker: unknown): Promise<void>;
  releaseBrokerLock(broker: unknown): unknown;
  addPartitionsToTransaction?(topicData: unknown): Promise<void>;
}
type Bail = (error: Error) => void;
type Attempt = (bail: Bail, retryCount: number, retryTime: number) => Promise<unknown>;
type Retrier = (attempt: Attempt) => Promise<unknown>;
export interface SendMessagesOptions {
  eosManager: EosManager;
  retrier: Retrier;
  [other: string]: unknown;
}
type SendMessages = (request: unknown) => Promise<unknown>;
export type SendMessagesFactory = (options: SendMessagesOptions) => SendMessages;

/** Counts the broker requests of one sendBatch that have taken their broker lock and not released it. */
class RequestsInFlight {
  private count = 0;
  private waiting: (() => void)[] = [];

  begin(): void {
    this.count += 1;
  }

  end(): void {
    this.count -= 1;
    if (this.count > 0) return;
    const waiting = this.waiting;
    this.waiting = [];
    for (const resolve of waiting) resolve();
  }

  settled(): Promise<void> {
    return this.count === 0 ? Promise.resolve() : new Promise((resolve) => this.waiting.push(resolve));
  }
}

/**
 * sendMessages with the fix: every request takes its broker's lock before sending and releases it
 * once its answer (or failure) is recorded, so "every lock released" means every request settled.
 */
export function settleBeforeRetry(factory: SendMessagesFactory): SendMessagesFactory {
  return (options) => async (request) => {
    const inFlight = new RequestsInFlight();
    const original = options.eosManager;
    const eosManager = Object.create(original) as EosManager;
    eosManager.acquireBrokerLock = async (broker) => {
      inFlight.begin();
      try {
        await original.acquireBrokerLock(broker);
      } catch (error) {
        inFlight.end();
        throw error;
      }
    };
    eosManager.releaseBrokerLock = (broker) => {
      try {
        return original.releaseBrokerLock(broker);
      } finally {
        inFlight.end();
      }
    };
    const retrier: Retrier = (attempt) =>
      options.retrier(async (bail, retryCount, retryTime) => {
        let bailed: Error | undefined;
        try {
          const result = await attempt((error) => (bailed = error), retryCount, retryTime);
          if (bailed) {
            await inFlight.settled();
            bail(bailed);
          }
          return result;
        } catch (error) {
          await inFlight.settled();
          throw error;
        }
      });
    return factory({ ...options, eosManager, retrier })(request);
  };
}

/**
 * The other half: kafkajs adds each broker's partitions to the transaction with its own
 * AddPartitionsToTxn, all at once, and the coordinator refuses all but one with
 * CONCURRENT_TRANSACTIONS, as it does right after a commit while its markers are being written.
 * kafkajs then retries the whole send after its backoff (300 ms and up) and logs an error each
 * time. Here a producer's AddPartitionsToTxn requests go one at a time, and CONCURRENT_TRANSACTIONS
 * is retried at once with a short backoff, as the Java producer does; whatever remains goes to
 * kafkajs' own retry.
 */
export function serialAddPartitions(factory: SendMessagesFactory, backoffMs: readonly number[] = [10, 20, 40, 80, 160, 320]): SendMessagesFactory {
  return (options) => {
    const original = options.eosManager;
    const add = original.addPartitionsToTransaction?.bind(original);
    if (!add) return factory(options);
    const eosManager = Object.create(original) as EosManager;
    eosManager.addPartitionsToTransaction = (topicData) => queueOf(original).run(async () => {
      for (let attempt = 0; ; attempt++) {
        try {
          return await add(topicData);
        } catch (error) {
          const delay = backoffMs[attempt];
          if ((error as { type?: unknown }).type !== 'CONCURRENT_TRANSACTIONS' || delay === undefined) throw error;
          await new Promise((resolve) => setTimeout(resolve, delay));
        }
      }
    });
    return factory({ ...options, eosManager });
  };
}

/** One chain of AddPartitionsToTxn calls per producer (kafkajs' eosManager). */
const addQueues = new WeakMap<object, { run<T>(job: () => Promise<T>): Promise<T> }>();
function queueOf(eosManager: object): { run<T>(job: () => Promise<T>): Promise<T> } {
  let queue = addQueues.get(eosManager);
  if (!queue) {
    let tail: Promise<unknown> = Promise.resolve();
    queue = {
      run<T>(job: () => Promise<T>): Promise<T> {
        const result = tail.then(job);
        tail = result.catch(() => undefined);
        return result;
      },
    };
    addQueues.set(eosManager, queue);
  }
  return queue;
}

const fixed = Symbol.for('ecommerce.kafkajs.settleBeforeRetry');
let installedInTime = false;

/** Puts the fix in kafkajs' module cache before its producer loads; idempotent. */
export function installSendFix(): void {
  const load = createRequire(require.resolve('kafkajs'));
  const sendMessagesPath = load.resolve('./src/producer/sendMessages');
  const current = load(sendMessagesPath) as SendMessagesFactory & { [fixed]?: true };
  if (current[fixed]) return;
  if (require.cache[load.resolve('./src/producer/messageProducer')]) return;
  if (typeof current !== 'function') throw new Error('kafkajs src/producer/sendMessages is not a factory: the send fix does not fit this kafkajs version');
  const patched = Object.assign(settleBeforeRetry(serialAddPartitions(current)), { [fixed]: true as const });
  const cached = require.cache[sendMessagesPath];
  if (!cached) throw new Error('kafkajs src/producer/sendMessages is not in the module cache');
  cached.exports = patched;
  installedInTime = true;
}

/** Throws unless the fix was installed before kafkajs loaded its producer. */
export function assertSendFixInstalled(): void {
  if (!installedInTime) {
    throw new Error('kafkajs was loaded before its send fix: import services/core/kafkajs-fixes before anything else in the entry point, or sends may duplicate records');
  }
}
