// Prometheus metrics: one registry per process, served on /metrics (and /healthz for probes).
import http from 'node:http';
import { collectDefaultMetrics, Registry } from 'prom-client';

export function createRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}

export interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

/** What /metrics serves: a registry, or anything that renders an exposition the same way. */
export interface MetricsSource {
  contentType: string;
  metrics(): Promise<string>;
}

/** Serves the registry; port 0 picks a free one (tests). `healthy` backs /healthz. */
export async function startMetricsServer(
  registry: MetricsSource,
  options: { port: number; host?: string; healthy?: () => boolean },
): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    if (req.url === '/metrics') {
      registry
        .metrics()
        .then((body) => {
          res.writeHead(200, { 'content-type': registry.contentType });
          res.end(body);
        })
        .catch((error: unknown) => {
          res.writeHead(500);
          res.end(String(error));
        });
    } else if (req.url === '/healthz') {
      const ok = options.healthy ? options.healthy() : true;
      res.writeHead(ok ? 200 : 503);
      res.end(ok ? 'ok\n' : 'unhealthy\n');
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', resolve);
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : options.port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** METRICS_PORT / METRICS_HOST with the defaults the stack's scrape config expects. */
export const defaultMetricsPort = 9464;
