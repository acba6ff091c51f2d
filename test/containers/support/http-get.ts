// GET with node:http and a hard timeout, retried until a predicate holds: a port published by Docker
// accepts connections (docker-proxy) before the process inside listens, so early answers are resets.
import http from 'node:http';

export function httpGet(url: string, timeoutMs = 5_000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

/** Polls `url` until `accept` holds for an answer; fails with the last answer or error. */
export async function httpGetUntil(
  url: string,
  accept: (answer: { status: number; body: string }) => boolean,
  attempts = 120,
): Promise<{ status: number; body: string }> {
  let last = 'no answer';
  for (let attempt = 0; attempt < attempts; attempt++) {
    try {
      const answer = await httpGet(url);
      if (accept(answer)) return answer;
      last = `HTTP ${answer.status}: ${answer.body.slice(0, 300)}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`GET ${url} never gave the expected answer; last: ${last}`);
}
