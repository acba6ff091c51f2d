// How the program's topic, ACL and user resources reach the cluster: the kafkajs admin client over
// TLS, as the cluster's admin identity (a super user): the admin certificate (the bundled cluster,
// or an external one with mutual TLS), or a SCRAM-SHA-512 user over TLS (an external cluster).
import { Kafka, logLevel, type Admin, type KafkaConfig, type RetryOptions } from 'kafkajs';

export interface ScramCredentials {
  mechanism: 'scram-sha-512';
  username: string;
  password: string;
}

export interface AdminConnection {
  brokers: string[];
  /** PEM of the CA that signed the brokers' certificates. The key or password makes the whole connection a Pulumi secret. */
  ca: string;
  /** Mutual TLS: the admin's certificate and key (PEM). */
  cert?: string;
  key?: string;
  /** SASL_SSL: the admin's SCRAM user instead of a certificate. */
  sasl?: ScramCredentials;
}

/** kafkajs' ssl and sasl settings for a connection (shared by every admin request, raw or not). */
export function securityOf(connection: AdminConnection): Pick<KafkaConfig, 'ssl' | 'sasl'> {
  if (connection.sasl) {
    const { mechanism, username, password } = connection.sasl;
    return { ssl: { ca: [connection.ca], rejectUnauthorized: true }, sasl: { mechanism, username, password } };
  }
  if (!connection.cert || !connection.key) throw new Error('admin connection: needs a client certificate and key, or SCRAM credentials');
  return { ssl: { ca: [connection.ca], cert: connection.cert, key: connection.key, rejectUnauthorized: true } };
}

/** `retry` replaces the default for callers that poll and prefer a quick failure to a long retry. */
export function kafkaFor(connection: AdminConnection, retry?: RetryOptions): Kafka {
  return new Kafka({
    clientId: 'pulumi-ecommerce-pipeline',
    brokers: connection.brokers,
    ...securityOf(connection),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 10_000,
    requestTimeout: 30_000,
    // A broker that was just started may need a moment before it answers.
    retry: retry ?? { initialRetryTime: 500, retries: 10, maxRetryTime: 10_000 },
  });
}

export async function withAdmin<T>(connection: AdminConnection, body: (admin: Admin) => Promise<T>, retry?: RetryOptions): Promise<T> {
  const admin = kafkaFor(connection, retry).admin();
  await admin.connect();
  try {
    return await body(admin);
  } finally {
    await admin.disconnect();
  }
}
