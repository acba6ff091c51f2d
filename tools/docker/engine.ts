// A small Docker Engine API client: HTTP over the engine's unix socket with node:http, no extra
// dependencies. API 1.41 is what the Debian 12 engine speaks (the newer CLI negotiates down to it).
import http from 'node:http';

export type Query = Record<string, string | number | boolean | undefined>;

export interface RequestOptions {
  query?: Query;
  /** JSON body. */
  body?: unknown;
  /** A tar archive body (the archive API). */
  tar?: Buffer;
  /** Status codes that are not errors besides 2xx (e.g. 304 "already started"). */
  accept?: number[];
}

export class DockerApiError extends Error {
  constructor(readonly status: number, readonly method: string, readonly path: string, detail: string) {
    super(`Docker API ${method} ${path} answered ${status}: ${detail}`);
    this.name = 'DockerApiError';
  }
}

function socketFromEnv(): string {
  const host = process.env.DOCKER_HOST;
  if (!host) return '/var/run/docker.sock';
  if (host.startsWith('unix://')) return host.slice('unix://'.length);
  throw new Error(`DOCKER_HOST=${host}: only unix:// sockets are supported by tools/docker`);
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

export class DockerEngine {
  constructor(
    readonly socketPath = socketFromEnv(),
    readonly apiVersion = 'v1.41',
  ) {}

  /** Raw request; resolves with the whole response body once the engine ends it. */
  request(method: string, path: string, options: RequestOptions = {}): Promise<{ status: number; body: Buffer }> {
    const payload = options.tar ?? (options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body)));
    const headers: http.OutgoingHttpHeaders = {};
    if (payload) {
      headers['content-type'] = options.tar ? 'application/x-tar' : 'application/json';
      headers['content-length'] = payload.length;
    }
    const fullPath = `/${this.apiVersion}${path}${queryString(options.query)}`;
    return new Promise((resolve, reject) => {
      const req = http.request({ socketPath: this.socketPath, method, path: fullPath, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          const body = Buffer.concat(chunks);
          if ((status >= 200 && status < 300) || options.accept?.includes(status)) resolve({ status, body });
          else reject(new DockerApiError(status, method, path, errorMessage(body)));
        });
      });
      req.on('error', (error) =>
        reject(new Error(`cannot reach the Docker engine at ${this.socketPath}: ${error.message} (is dockerd running? tools/setup.sh starts it)`, { cause: error })),
      );
      req.end(payload);
    });
  }

  async json<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const { body } = await this.request(method, path, options);
    return (body.length ? JSON.parse(body.toString('utf8')) : undefined) as T;
  }
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
