// Kafka creates __consumer_offsets and __transaction_state on the first FindCoordinator request, on
// behalf of whoever asked: with least-privilege ACLs the consumer may not create topics, so its
// first group join would wait forever for a coordinator. The admin identity asks first instead.
import * as pulumi from '@pulumi/pulumi';
import type { Admin, Kafka } from 'kafkajs';
import { kafkaFor, withAdmin, type AdminConnection } from './connection';

export const internalTopics = ['__consumer_offsets', '__transaction_state'] as const;
const bootstrapId = 'ecommerce-pipeline-bootstrap';

async function missingInternalTopics(admin: Admin): Promise<string[]> {
  const existing = await admin.listTopics();
  return internalTopics.filter((t) => !existing.includes(t));
}

/** Makes both internal topics exist (idempotent): a group lookup and an aborted empty transaction. */
export async function ensureInternalTopics(kafka: Kafka, admin: Admin): Promise<void> {
  if ((await missingInternalTopics(admin)).length === 0) return;
  await admin.describeGroups([bootstrapId]);
  const producer = kafka.producer({ transactionalId: bootstrapId, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    const transaction = await producer.transaction();
    await transaction.abort();
  } finally {
    await producer.disconnect();
  }
  for (let attempt = 0; attempt < 30; attempt++) {
    const missing = await missingInternalTopics(admin);
    if (missing.length === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
  throw new Error(`Kafka did not create ${(await missingInternalTopics(admin)).join(', ')} within 30 s`);
}

interface InternalTopicsProps {
  connection: AdminConnection;
}

export const internalTopicsProvider: pulumi.dynamic.ResourceProvider<InternalTopicsProps, InternalTopicsProps> = {
  async create(inputs) {
    await withAdmin(inputs.connection, (admin) => ensureInternalTopics(kafkaFor(inputs.connection), admin));
    return { id: 'internal-topics', outs: inputs };
  },
  async read(id, props) {
    if (!props) throw new Error('internal topics: nothing to import');
    const missing = await withAdmin(props.connection, missingInternalTopics);
    return missing.length === 0 ? { id, props } : {};
  },
  async diff(_id, olds, news) {
    return { changes: JSON.stringify(olds.connection.brokers) !== JSON.stringify(news.connection.brokers) };
  },
  async update(_id, _olds, news) {
    await withAdmin(news.connection, (admin) => ensureInternalTopics(kafkaFor(news.connection), admin));
    return { outs: news };
  },
  // Kafka's own topics go with the cluster.
  async delete() {},
};

export class KafkaInternalTopics extends pulumi.dynamic.Resource {
  constructor(name: string, args: { connection: pulumi.Input<AdminConnection> }, opts?: pulumi.CustomResourceOptions) {
    super(internalTopicsProvider, name, { ...args }, { ...opts, additionalSecretOutputs: ['connection'] }, 'kafka', 'InternalTopics');
  }
}
