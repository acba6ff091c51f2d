// A small Docker Engine API client with no dependencies: HTTP over the engine's unix socket, or over
// TCP (with TLS when DOCKER_TLS_VERIFY is set, certificates from DOCKER_CERT_PATH), chosen by
// DOCKER_HOST as the docker CLI and the docker provider choose it. API 1.41 is what the Debian 12
// engine speaks (newer engines still serve it).
// Named imports only: a dynamic provider is serialized with its closure, where a default import's
// `.default` of a Node built-in does not survive.
import { readFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { homedir } from 'node:os';
import { join } from 'node:path';

export type Query = Record<string, string | number | boolean | undefined>;

export interface RequestOptions {
  query?: Query;
  /** JSON body. */
  body?: unknown;
  /** A tar archive body (the archive and build APIs). */
  tar?: Buffer;
  /** Extra request headers (the build API takes its registry config in one). */
  headers?: Record<string, string>;
  /** Status codes that are not errors besides 2xx (e.g. 304 "already started", 404 "no such image"). */
  accept?: number[];
}

export class DockerApiError extends Error {
  constructor(readonly status: number, readonly method: string, readonly path: string, detail: string) {
    super(`Docker API ${method} ${path} answered ${status}: ${detail}`);
    this.name = 'DockerApiError';
  }
}

/** Where the engine listens, as DOCKER_HOST says. */
export type EngineEndpoint =
  | { kind: 'unix'; socketPath: string }
  | { kind: 'tcp'; host: string; port: number; tls?: { ca: Buffer; cert: Buffer; key: Buffer } };

/**
 * DOCKER_HOST as the docker CLI reads it: unset is the local socket, `unix://<path>`, or
 * `tcp://<host>:<port>` (TLS when DOCKER_TLS_VERIFY is non-empty, with ca.pem, cert.pem and key.pem
 * from DOCKER_CERT_PATH or ~/.docker). `ssh://` is refused with the way around it: the CLI runs
 * `docker system dial-stdio` on the remote host for it, which an HTTP client cannot do.
 */
export function engineEndpoint(env: NodeJS.ProcessEnv = process.env): EngineEndpoint {
  const host = env.DOCKER_HOST?.trim();
  if (!host) return { kind: 'unix', socketPath: '/var/run/docker.sock' };
  if (host.startsWith('unix://')) return { kind: 'unix', socketPath: host.slice('unix://'.length) };
  if (host.startsWith('tcp://')) {
    const url = new URL(host.replace(/^tcp:/, 'http:'));
    const secure = Boolean(env.DOCKER_TLS_VERIFY);
    const port = url.port ? Number(url.port) : secure ? 2376 : 2375;
    if (!secure) return { kind: 'tcp', host: url.hostname, port };
    const dir = env.DOCKER_CERT_PATH || join(homedir(), '.docker');
    const read = (file: string): Buffer => {
      try {
        return readFileSync(join(dir, file));
      } catch (error) {
        throw new Error(`DOCKER_HOST=${host} with DOCKER_TLS_VERIFY: cannot read ${join(dir, file)} (set DOCKER_CERT_PATH to the folder holding ca.pem, cert.pem, key.pem)`, { cause: error });
      }
    };
    return { kind: 'tcp', host: url.hostname, port, tls: { ca: read('ca.pem'), cert: read('cert.pem'), key: read('key.pem') } };
  }
  if (host.startsWith('ssh://')) {
    throw new Error(
      `DOCKER_HOST=${host}: the Engine API is not reachable over ssh:// from here. Forward the remote socket ` +
      '(ssh -nNT -L /tmp/docker.sock:/var/run/docker.sock <user>@<host>) and set DOCKER_HOST=unix:///tmp/docker.sock, ' +
      'or expose the engine on tcp:// with TLS (DOCKER_TLS_VERIFY=1, DOCKER_CERT_PATH)',
    );
  }
  throw new Error(`DOCKER_HOST=${host}: unsupported scheme (use unix://, tcp://, or unset for /var/run/docker.sock)`);
}

function describeEndpoint(endpoint: EngineEndpoint): string {
  return endpoint.kind === 'unix' ? endpoint.socketPath : `${endpoint.tls ? 'https' : 'http'}://${endpoint.host}:${endpoint.port}`;
}

function queryString(query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** Splits Docker's multiplexed stdout/stderr stream (8-byte frame headers) into its two streams. */
export function demultiplex(stream: Buffer): { stdout: string; stderr: string } {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let at = 0;
  while (at + 8 <= stream.length) {
    const kind = stream[at];
    const size = stream.readUInt32BE(at + 4);
    const payload = stream.subarray(at + 8, at + 8 + size);
    (kind === 2 ? err : out).push(payload);
    at += 8 + size;
  }
  return { stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}

function errorMessage(body: Buffer): string {
  const text = body.toString('utf8').trim();
  try {
    const parsed = JSON.parse(text) as { message?: string };
    return parsed.message ?? text;
  } catch {
    return text || '(empty body)';
  }
}

export class DockerEngine {
  readonly endpoint: EngineEndpoint;

  /** A socket path, an endpoint, or (by default) what DOCKER_HOST says. */
  constructor(
    endpoint: EngineEndpoint | string = engineEndpoint(),
    readonly apiVersion = 'v1.41',
  ) {
    this.endpoint = typeof endpoint === 'string' ? { kind: 'unix', socketPath: endpoint } : endpoint;
  }

  /** Raw request; resolves with the whole response body once the engine ends it. */
  request(method: string, path: string, options: RequestOptions = {}): Promise<{ status: number; body: Buffer }> {
    const payload = options.tar ?? (options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body)));
    const headers: OutgoingHttpHeaders = { ...options.headers };
    if (payload) {
      headers['content-type'] = options.tar ? 'application/x-tar' : 'application/json';
      headers['content-length'] = payload.length;
    }
    const fullPath = `/${this.apiVersion}${path}${queryString(options.query)}`;
    const endpoint = this.endpoint;
    return new Promise((resolve, reject) => {
      const onResponse = (res: IncomingMessage): void => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          const body = Buffer.concat(chunks);
          if ((status >= 200 && status < 300) || options.accept?.includes(status)) resolve({ status, body });
          else reject(new DockerApiError(status, method, path, errorMessage(body)));
        });
      };
      const req = endpoint.kind === 'unix'
        ? httpRequest({ socketPath: endpoint.socketPath, method, path: fullPath, headers }, onResponse)
        : endpoint.tls
          ? httpsRequest({ host: endpoint.host, port: endpoint.port, method, path: fullPath, headers, ...endpoint.tls }, onResponse)
          : httpRequest({ host: endpoint.host, port: endpoint.port, method, path: fullPath, headers }, onResponse);
      req.on('error', (error) =>
        reject(new Error(`cannot reach the Docker engine at ${describeEndpoint(endpoint)}: ${error.message} (is dockerd running? DOCKER_HOST chooses the engine)`, { cause: error })),
      );
      req.end(payload);
    });
  }

  async json<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const { body } = await this.request(method, path, options);
    return (body.length ? JSON.parse(body.toString('utf8')) : undefined) as T;
  }
}
