// Progress: a redrawn bar with rate and ETA on a terminal, a log line every few seconds otherwise.
// The ETA is from the share of file bytes read, which works for gzip input too.
import type { Logger } from 'pino';

export interface ProgressSnapshot {
  read: number;
  sent: number;
  rejected: number;
  bytesRead: number;
  totalBytes: number;
}

export interface ProgressReporter {
  stop(): void;
}

export function startProgress(
  snapshot: () => ProgressSnapshot,
  options: { logger: Logger; intervalSeconds: number; terminal?: NodeJS.WriteStream | undefined },
): ProgressReporter {
  const started = performance.now();
  const { terminal } = options;
  const tick = (): void => {
    const s = snapshot();
    const elapsed = (performance.now() - started) / 1000;
    if (terminal) terminal.write(`\r${formatBar(s, elapsed, terminal.columns ?? 80)}`);
    else options.logger.info({ ...s, rowsPerSecond: Math.round(s.read / Math.max(elapsed, 0.001)) }, 'progress');
  };
  const timer = setInterval(tick, terminal ? 250 : options.intervalSeconds * 1000);
  timer.unref();
  return {
    stop: () => {
      clearInterval(timer);
      if (terminal) {
        tick();
        terminal.write('\n');
      }
    },
  };
}

export function formatBar(s: ProgressSnapshot, elapsedSeconds: number, columns: number): string {
  const fraction = s.totalBytes > 0 ? Math.min(1, s.bytesRead / s.totalBytes) : 0;
  const rate = s.read / Math.max(elapsedSeconds, 0.001);
  const eta = fraction > 0 && fraction < 1 ? (elapsedSeconds * (1 - fraction)) / fraction : 0;
  const text = ` ${(fraction * 100).toFixed(1).padStart(5)}% ${s.read.toLocaleString('en-US')} rows (${s.rejected} rejected) ${Math.round(rate).toLocaleString('en-US')}/s ETA ${formatDuration(eta)}`;
  const width = Math.max(10, Math.min(40, columns - text.length - 3));
  const filled = Math.round(fraction * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]${text}`;
}

export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
