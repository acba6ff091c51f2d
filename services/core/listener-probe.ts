// KAFKA_SECURITY_PROTOCOL=PLAINTEXT against a TLS listener: kafkajs only sees the broker close each
// connection, retries for about a minute and ends with "Closed connection", which names neither
// cause nor fix. One plaintext ApiVersions request tells the two apart at once: a plaintext Kafka
// listener answers with a Kafka response (a 4-byte length, first byte 0); Kafka's TLS listener with a
// TLS alert record (content type 21, version 3.x) before it closes. A listener that closes without a
// word is asked once more, with a TLS handshake: if that gets a server hello, it speaks TLS.
import net from 'node:net';
import tls from 'node:tls';
import { ConfigError } from './env';
import type { KafkaClientConfig } from './kafka-client';

export type ListenerKind = 'plaintext' | 'tls' | 'unknown';

/** ApiVersions v0 with correlation id 1 and client id "probe". */
function apiVersionsRequest(): Buffer {
  const clientId = Buffer.from('probe');
  const body = Buffer.alloc(2 + 2 + 4 + 2 + clientId.length);
  body.writeInt16BE(18, 0);
  body.writeInt16BE(0, 2);
  body.writeInt32BE(1, 4);
  body.writeInt16BE(clientId.length, 8);
  clientId.copy(body, 10);
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length);
  return Buffer.concat([size, body]);
}

/** What a `host:port` speaks; 'unknown' when it cannot be reached or says nothing (kafkajs then reports that). */
export async function probeListener(broker: string, timeoutMs = 5000): Promise<ListenerKind> {
  const at = broker.lastIndexOf(':');
  const [host, port] = [broker.slice(0, at), Number(broker.slice(at + 1))];
  const answer = await plaintextAnswer(host, port, timeoutMs);
  return answer === 'unknown' && (await answersTls(host, port, timeoutMs)) ? 'tls' : answer;
}

function plaintextAnswer(host: string, port: number, timeoutMs: number): Promise<ListenerKind> {
  return new Promise((resolve) => {
    const socket = net.connect(port, host);
    const done = (kind: ListenerKind): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(kind);
    };
    const timer = setTimeout(() => done('unknown'), timeoutMs);
    socket.once('connect', () => socket.write(apiVersionsRequest()));
    socket.once('data', (data: Buffer) => done(data.length >= 2 && (data[0] === 0x15 || data[0] === 0x16) && data[1] === 0x03 ? 'tls' : 'plaintext'));
    socket.once('error', () => done('unknown'));
    socket.once('close', () => done('unknown'));
  });
}

/** Whether a TLS handshake gets as far as the server's hello (the server's certificate is not checked: only the protocol is asked). */
function answersTls(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host, port, rejectUnauthorized: false, ...(net.isIP(host) ? {} : { servername: host }) });
    const done = (speaksTls: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(speaksTls);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('secureConnect', () => done(true));
    // A TLS alert from the server (e.g. certificate required) is an answer in TLS too.
    socket.once('error', (error: NodeJS.ErrnoException) => done(/alert|SSL_R_|ERR_SSL_TLSV1_ALERT|certificate/i.test(`${error.code ?? ''} ${error.message}`) && !/wrong version number/i.test(error.message)));
  });
}

/** With PLAINTEXT configured, refuses to start against a TLS listener, naming the variable and the fix. */
export async function checkPlaintextListeners(config: KafkaClientConfig): Promise<void> {
  if (config.securityProtocol !== 'PLAINTEXT') return;
  const kinds = await Promise.all(config.brokers.map(async (broker) => [broker, await probeListener(broker)] as const));
  const tls = kinds.filter(([, kind]) => kind === 'tls').map(([broker]) => broker);
  if (tls.length === 0) return;
  throw new ConfigError([
    `KAFKA_SECURITY_PROTOCOL=PLAINTEXT, but the broker at ${tls.join(', ')} expects TLS (it answered in TLS): ` +
      'set KAFKA_SECURITY_PROTOCOL=SSL with KAFKA_SSL_CA_LOCATION, KAFKA_SSL_CERTIFICATE_LOCATION and KAFKA_SSL_KEY_LOCATION',
  ]);
}
