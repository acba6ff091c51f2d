// kafkajs 2.2.4 hides why a coordinator lookup failed: its cluster asks each broker in turn, drops
// every refusal (brokerPool.withBroker swallows them) and throws "Failed to find group coordinator".
// A group (or transactional id) that no ACL grants is refused with GROUP_AUTHORIZATION_FAILED
// (TRANSACTIONAL_ID_AUTHORIZATION_FAILED), so a consumer group outside its ACL prefix died with a
// message pointing at the brokers instead. After that failure this asks one broker again and, if the
// answer is an authorization refusal, throws it as such, naming the group or id.
// Loads nothing of kafkajs at import time: the send fix must be in place before kafkajs' producer loads.
import { createRequire } from 'node:module';

const loadKafkajs = (): NodeJS.Require => createRequire(require.resolve('kafkajs'));

interface CoordinatorRequest {
  groupId: string;
  coordinatorType?: number;
}
interface BrokerLike {
  findGroupCoordinator(request: CoordinatorRequest): Promise<unknown>;
}
interface ClusterLike {
  brokerPool: { withBroker<T>(callback: (args: { broker: BrokerLike }) => Promise<T>): Promise<T | null> };
}
type FindCoordinator = (this: ClusterLike, request: CoordinatorRequest) => Promise<unknown>;

const fixed = Symbol.for('ecommerce-pipeline.kafkajs-coordinator-fix');

/** The refusal behind a failed lookup, if it was one: a clear, non-retriable authorization error. */
export async function explainCoordinatorFailure(cluster: ClusterLike, request: CoordinatorRequest): Promise<Error | undefined> {
  const answer = await cluster.brokerPool.withBroker(async ({ broker }) => broker.findGroupCoordinator(request).then(() => undefined, (error: unknown) => error as { type?: string }));
  const transactional = request.coordinatorType === 1;
  if (answer?.type === 'GROUP_AUTHORIZATION_FAILED' || answer?.type === 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED') {
    const what = transactional ? 'transactional id' : 'group';
    const { KafkaJSProtocolError } = loadKafkajs()('./src/errors') as { KafkaJSProtocolError: new (e: { type: string; code: number; message: string; retriable: boolean }) => Error };
    const message = `${what} authorization failed for ${request.groupId}: no ACL grants this client's principal that ${what}`;
    return new KafkaJSProtocolError({ type: answer.type, code: transactional ? 53 : 30, message, retriable: false });
  }
  return undefined;
}

/** Wraps kafkajs' Cluster.findGroupCoordinatorMetadata; idempotent. */
export function installCoordinatorFix(): void {
  const Cluster = loadKafkajs()('./src/cluster') as { prototype: { findGroupCoordinatorMetadata: FindCoordinator & { [fixed]?: true } } };
  const original = Cluster.prototype.findGroupCoordinatorMetadata;
  if (typeof original !== 'function') throw new Error('kafkajs Cluster.findGroupCoordinatorMetadata is missing: the coordinator fix does not fit this kafkajs version');
  if (original[fixed]) return;
  const patched: FindCoordinator = async function (this: ClusterLike, request) {
    try {
      return await original.call(this, request);
    } catch (error) {
      if ((error as Error).name !== 'KafkaJSGroupCoordinatorNotFound') throw error;
      throw (await explainCoordinatorFailure(this, request).catch(() => undefined)) ?? error;
    }
  };
  Cluster.prototype.findGroupCoordinatorMetadata = Object.assign(patched, { [fixed]: true as const });
}
