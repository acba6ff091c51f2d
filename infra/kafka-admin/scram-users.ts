// SCRAM users on the cluster, created and deleted with the admin identity through the Admin API
// (AlterUserScramCredentials, scram-protocol.ts). kafkajs 2.2.4 has no such request, so it is sent
// on one of kafkajs' own broker connections (its internal Broker and ConnectionPool, pinned with
// kafkajs' version): they do the TLS, the SASL authentication and the framing; we write the body.
// Any broker takes the request (Kafka forwards it to the active controller).
import * as pulumi from '@pulumi/pulumi';
import { securityOf, type AdminConnection } from './connection';
import {
  alterUserScramCredentialsApiKey, alterUserScramCredentialsVersion, decodeAlterUserScramCredentials, encodeAlterUserScramCredentials,
  scramUpsertion, type ScramDeletion, type ScramResult, type ScramUpsertion,
} from './scram-protocol';

interface RawRequest {
  request: { apiKey: number; apiVersion: number; apiName: string; encode: () => Promise<unknown> };
  response: { decode: (payload: Buffer) => Promise<Buffer>; parse: (decoded: Buffer) => Promise<ScramResult[]> };
}

interface InternalBroker {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  connectionPool: { send(request: RawRequest): Promise<ScramResult[]> };
}

interface KafkajsInternals {
  Broker: new (options: Record<string, unknown>) => InternalBroker;
  ConnectionPool: new (options: Record<string, unknown>) => unknown;
  socketFactory: () => unknown;
  Encoder: new () => { writeBuffer(b: Buffer): unknown };
  createLogger: (o: Record<string, unknown>) => unknown;
  createErrorFromCode: (code: number) => Error;
}

/** Required when used, by literal path: the provider is serialized into state and run without our module graph. */
function kafkajsInternals(): KafkajsInternals {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const loggers = require('kafkajs/src/loggers') as Pick<KafkajsInternals, 'createLogger'>;
  const errors = require('kafkajs/src/protocol/error') as Pick<KafkajsInternals, 'createErrorFromCode'>;
  return {
    Broker: require('kafkajs/src/broker') as KafkajsInternals['Broker'],
    ConnectionPool: require('kafkajs/src/network/connectionPool') as KafkajsInternals['ConnectionPool'],
    socketFactory: require('kafkajs/src/network/socketFactory') as KafkajsInternals['socketFactory'],
    Encoder: require('kafkajs/src/protocol/encoder') as KafkajsInternals['Encoder'],
    createLogger: loggers.createLogger,
    createErrorFromCode: errors.createErrorFromCode,
  };
  /* eslint-enable @typescript-eslint/no-require-imports */
}

/** Kafka's error for a user it does not have (RESOURCE_NOT_FOUND): deleting it is already done. */
const resourceNotFound = 91;

export async function alterScramCredentials(connection: AdminConnection, deletions: ScramDeletion[], upsertions: ScramUpsertion[]): Promise<ScramResult[]> {
  const [host, port] = connection.brokers[0]!.split(':') as [string, string];
  const security = securityOf(connection);
  const { Broker, ConnectionPool, socketFactory, Encoder, createLogger } = kafkajsInternals();
  const logger = createLogger({ level: 0, logCreator: () => () => {} });
  const pool = new ConnectionPool({
    host, port: Number(port), ...security, clientId: 'pulumi-ecommerce-pipeline', logger, socketFactory: socketFactory(),
    connectionTimeout: 10_000, requestTimeout: 30_000, enforceRequestTimeout: true,
  });
  const broker = new Broker({ connectionPool: pool, logger });
  await broker.connect();
  try {
    const body = encodeAlterUserScramCredentials(deletions, upsertions);
    return await broker.connectionPool.send({
      request: {
        apiKey: alterUserScramCredentialsApiKey,
        apiVersion: alterUserScramCredentialsVersion,
        apiName: 'AlterUserScramCredentials',
        encode: async () => {
          const encoder = new Encoder();
          encoder.writeBuffer(body);
          return encoder;
        },
      },
      response: { decode: async (payload) => payload, parse: async (payload) => decodeAlterUserScramCredentials(payload) },
    });
  } finally {
    await broker.disconnect();
  }
}

function failIfAny(results: ScramResult[], action: string, tolerated: number[] = []): void {
  const failed = results.filter((r) => r.errorCode !== 0 && !tolerated.includes(r.errorCode));
  if (failed.length === 0) return;
  throw new Error(failed.map((r) => `SCRAM user ${r.user}: ${action} failed: ${r.errorMessage ?? kafkajsInternals().createErrorFromCode(r.errorCode).message} (Kafka error ${r.errorCode})`).join('; '));
}

export async function upsertScramUser(connection: AdminConnection, name: string, password: string): Promise<void> {
  failIfAny(await alterScramCredentials(connection, [], [scramUpsertion(name, password)]), 'create');
}

export async function deleteScramUser(connection: AdminConnection, name: string): Promise<void> {
  failIfAny(await alterScramCredentials(connection, [{ name, mechanism: 'scram-sha-512' }], []), 'delete', [resourceNotFound]);
}

interface ScramUserProps {
  connection: AdminConnection;
  username: string;
  password: string;
}

export const scramUserProvider: pulumi.dynamic.ResourceProvider<ScramUserProps, ScramUserProps> = {
  async create(inputs) {
    await upsertScramUser(inputs.connection, inputs.username, inputs.password);
    return { id: inputs.username, outs: inputs };
  },
  async diff(_id, olds, news) {
    const replaces = olds.username !== news.username ? ['username'] : [];
    const changes = replaces.length > 0 || olds.password !== news.password || JSON.stringify(olds.connection.brokers) !== JSON.stringify(news.connection.brokers);
    return { changes, replaces, deleteBeforeReplace: true };
  },
  async update(_id, _olds, news) {
    await upsertScramUser(news.connection, news.username, news.password);
    return { outs: news };
  },
  async delete(_id, props) {
    await deleteScramUser(props.connection, props.username);
  },
};

export interface KafkaScramUserArgs {
  username: pulumi.Input<string>;
  password: pulumi.Input<string>;
  connection: pulumi.Input<AdminConnection>;
}

/** A SCRAM-SHA-512 user; its password and the admin connection stay secret in state. */
export class KafkaScramUser extends pulumi.dynamic.Resource {
  constructor(name: string, args: KafkaScramUserArgs, opts?: pulumi.CustomResourceOptions) {
    super(scramUserProvider, name, { ...args }, { ...opts, additionalSecretOutputs: ['connection', 'password'] }, 'kafka', 'ScramUser');
  }
}
