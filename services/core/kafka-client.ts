// The Kafka client every service uses: mutual TLS with the service's own certificate (the
// principal the ACLs are written for), SCRAM-SHA-512 over TLS with the service's own user (an
// external cluster that hands out SCRAM users), or plaintext for local experiments only.
// First: kafkajs' producer must load with the send fix in place.
import './kafkajs-fixes';
import { assertSendFixInstalled } from './kafkajs-send-fix';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Kafka, logLevel, type KafkaConfig, type LogEntry } from 'kafkajs';
import type { Logger } from 'pino';
import { ConfigError, type EnvReader } from './env';

export interface KafkaTlsFiles {
  /** PEM of the CA that signed the brokers' certificates. */
  caLocation: string;
  /** PEM of this client's certificate. */
  certificateLocation: string;
  /** PEM of this client's private key. */
  keyLocation: string;
  keyPassword?: string;
}

export interface KafkaSaslFiles {
  mechanism: 'SCRAM-SHA-512';
  username: string;
  /** A file holding the password: an environment variable would show in `docker inspect`. */
  passwordLocation: string;
  /** PEM of the CA that signed the brokers' certificates. */
  caLocation: string;
}

export interface KafkaClientConfig {
  brokers: string[];
  clientId: string;
  securityProtocol: 'SSL' | 'SASL_SSL' | 'PLAINTEXT';
  tls?: KafkaTlsFiles;
  sasl?: KafkaSaslFiles;
}

/** KAFKA_BROKERS, KAFKA_CLIENT_ID, KAFKA_SECURITY_PROTOCOL and the ssl.* locations, named as Kafka names them. */
export function readKafkaClientConfig(env: EnvReader, defaultClientId: string): KafkaClientConfig {
  const brokers = env.list('KAFKA_BROKERS');
  for (const broker of brokers) env.check(/^[^\s:]+:\d{1,5}$/.test(broker), `KAFKA_BROKERS entry ${JSON.stringify(broker)} is not host:port`);
  const clientId = env.string('KAFKA_CLIENT_ID', defaultClientId);
  const securityProtocol = env.oneOf('KAFKA_SECURITY_PROTOCOL', ['SSL', 'SASL_SSL', 'PLAINTEXT'] as const, 'SSL');
  if (securityProtocol === 'PLAINTEXT') return { brokers, clientId, securityProtocol };
  if (securityProtocol === 'SASL_SSL') {
    return {
      brokers,
      clientId,
      securityProtocol,
      sasl: {
        mechanism: env.oneOf('KAFKA_SASL_MECHANISM', ['SCRAM-SHA-512'] as const, 'SCRAM-SHA-512'),
        username: env.string('KAFKA_SASL_USERNAME'),
        passwordLocation: env.string('KAFKA_SASL_PASSWORD_LOCATION'),
        caLocation: env.string('KAFKA_SSL_CA_LOCATION'),
      },
    };
  }
  const keyPassword = env.optionalString('KAFKA_SSL_KEY_PASSWORD');
  return {
    brokers,
    clientId,
    securityProtocol,
    tls: {
      caLocation: env.string('KAFKA_SSL_CA_LOCATION'),
      certificateLocation: env.string('KAFKA_SSL_CERTIFICATE_LOCATION'),
      keyLocation: env.string('KAFKA_SSL_KEY_LOCATION'),
      ...(keyPassword ? { keyPassword } : {}),
    },
  };
}

export interface LoadedTls {
  ca: string;
  cert: string;
  key: string;
  passphrase?: string;
  /** The certificate's subject CN: the short principal name the brokers map it to. */
  principal: string;
  notAfter: Date;
}

/** Reads and checks the PEM files: readable, parseable, in date, and the key belongs to the certificate. */
export function loadTls(files: KafkaTlsFiles, now = new Date()): LoadedTls {
  const read = (what: string, path: string): string => {
    try {
      return readFileSync(path, 'utf8');
    } catch (error) {
      throw new ConfigError([`${what} ${path} cannot be read: ${(error as Error).message}`]);
    }
  };
  const ca = read('KAFKA_SSL_CA_LOCATION', files.caLocation);
  const cert = read('KAFKA_SSL_CERTIFICATE_LOCATION', files.certificateLocation);
  const key = read('KAFKA_SSL_KEY_LOCATION', files.keyLocation);
  const problems: string[] = [];
  let certificate: X509Certificate | undefined;
  try {
    new X509Certificate(ca);
  } catch (error) {
    problems.push(`KAFKA_SSL_CA_LOCATION ${files.caLocation} is not a PEM certificate: ${(error as Error).message}`);
  }
  try {
    certificate = new X509Certificate(cert);
  } catch (error) {
    problems.push(`KAFKA_SSL_CERTIFICATE_LOCATION ${files.certificateLocation} is not a PEM certificate: ${(error as Error).message}`);
  }
  if (certificate) {
    const notBefore = new Date(certificate.validFrom);
    const notAfter = new Date(certificate.validTo);
    if (now > notAfter) problems.push(`the client certificate ${files.certificateLocation} expired on ${notAfter.toISOString()}`);
    if (now < notBefore) problems.push(`the client certificate ${files.certificateLocation} is not valid before ${notBefore.toISOString()}`);
    try {
      const privateKey = createPrivateKey(files.keyPassword ? { key, passphrase: files.keyPassword } : key);
      if (!certificate.checkPrivateKey(privateKey)) {
        problems.push(`KAFKA_SSL_KEY_LOCATION ${files.keyLocation} is not the private key of ${files.certificateLocation}`);
      }
    } catch (error) {
      problems.push(`KAFKA_SSL_KEY_LOCATION ${files.keyLocation} is not a usable PEM private key: ${(error as Error).message}`);
    }
  }
  if (problems.length > 0 || !certificate) throw new ConfigError(problems);
  const cn = /(?:^|\n|,\s*)CN=([^,\n]+)/.exec(certificate.subject)?.[1] ?? certificate.subject;
  return {
    ca,
    cert,
    key,
    ...(files.keyPassword ? { passphrase: files.keyPassword } : {}),
    principal: cn,
    notAfter: new Date(certificate.validTo),
  };
}

/** TLS that checks the brokers only, and the SCRAM user (its password read from its file). */
export function loadSasl(files: KafkaSaslFiles): Pick<KafkaConfig, 'ssl' | 'sasl'> {
  const problems: string[] = [];
  const read = (what: string, path: string): string => {
    try {
      return readFileSync(path, 'utf8');
    } catch (error) {
      problems.push(`${what} ${path} cannot be read: ${(error as Error).message}`);
      return '';
    }
  };
  const ca = read('KAFKA_SSL_CA_LOCATION', files.caLocation);
  const password = read('KAFKA_SASL_PASSWORD_LOCATION', files.passwordLocation).replace(/\r?\n$/, '');
  if (ca) {
    try {
      new X509Certificate(ca);
    } catch (error) {
      problems.push(`KAFKA_SSL_CA_LOCATION ${files.caLocation} is not a PEM certificate: ${(error as Error).message}`);
    }
  }
  if (problems.length === 0 && password === '') problems.push(`KAFKA_SASL_PASSWORD_LOCATION ${files.passwordLocation} is empty`);
  if (problems.length > 0) throw new ConfigError(problems);
  return { ssl: { ca: [ca], rejectUnauthorized: true }, sasl: { mechanism: 'scram-sha-512', username: files.username, password } };
}

/** kafkajs settings (brokers, ssl, logging through pino) for a client config. */
export function kafkaJsConfig(config: KafkaClientConfig, logger?: Logger): KafkaConfig {
  const base: KafkaConfig = {
    clientId: config.clientId,
    brokers: config.brokers,
    connectionTimeout: 10_000,
    requestTimeout: 30_000,
    retry: { initialRetryTime: 300, retries: 8, maxRetryTime: 30_000 },
    logLevel: logLevel.WARN,
    ...(logger ? { logCreator: pinoLogCreator(logger) } : {}),
  };
  if (config.sasl) return { ...base, ...loadSasl(config.sasl) };
  if (config.securityProtocol === 'PLAINTEXT' || !config.tls) return base;
  const tls = loadTls(config.tls);
  return {
    ...base,
    ssl: { ca: [tls.ca], cert: tls.cert, key: tls.key, ...(tls.passphrase ? { passphrase: tls.passphrase } : {}), rejectUnauthorized: true },
  };
}

export function createKafka(config: KafkaClientConfig, logger?: Logger): Kafka {
  assertSendFixInstalled();
  return new Kafka(kafkaJsConfig(config, logger));
}

/**
 * kafkajs logs every error response at ERROR, even one it retries as a matter of course. A
 * transaction's first AddPartitionsToTxn right after the previous commit is refused with
 * CONCURRENT_TRANSACTIONS until the commit markers are written, and retried at once
 * (kafkajs-send-fix.ts): routine, so debug.
 */
function isRoutine(message: string, extra: Record<string, unknown>): boolean {
  return message.startsWith('Response AddPartitionsToTxn') && /another concurrent operation on the same transaction/.test(String(extra.error));
}

export function pinoLogCreator(logger: Logger) {
  return () =>
    ({ level, log }: LogEntry): void => {
      const { message, ...extra } = log;
      const child = logger.child({ component: 'kafkajs' });
      if (isRoutine(message, extra)) child.debug(extra, message);
      else if (level === logLevel.ERROR) child.error(extra, message);
      else if (level === logLevel.WARN) child.warn(extra, message);
      else if (level === logLevel.INFO) child.info(extra, message);
      else child.debug(extra, message);
    };
}
