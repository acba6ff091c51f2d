// How the program's topic and ACL resources reach the cluster: the kafkajs admin client over the
// EXTERNAL listener, authenticated with the admin certificate (a super user).
import { Kafka, logLevel, type Admin, type RetryOptions } from 'kafkajs';

export interface AdminConnection {
  brokers: string[];
  /** PEM; the key makes the whole connection a Pulumi secret. */
  ca: string;
  cert: string;
  key: string;
}

/** `retry` replaces the default for callers that poll and prefer a quick failure to a long retry. */
export function kafkaFor(connection: AdminConnection, retry?: RetryOptions): Kafka {
  return new Kafka({
    clientId: 'pulumi-ecommerce-pipeline',
    brokers: connection.brokers,
    ssl: { ca: [connection.ca], cert: connection.cert, key: connection.key, rejectUnauthorized: true },
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
