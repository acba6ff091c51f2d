// Peak resident memory (VmHWM) of a Linux process, read from /proc: of this process, or of a
// process in a container (its status read through docker exec).
import { readFileSync } from 'node:fs';

/** VmHWM in bytes from the text of /proc/<pid>/status, or undefined when it has none. */
export function peakRssOf(status: string): number | undefined {
  const match = /^VmHWM:\s+(\d+) kB$/m.exec(status);
  return match ? Number(match[1]) * 1024 : undefined;
}

/** This process's peak resident memory since it started, or since resetOwnPeakRss. */
export function ownPeakRss(): number {
  const peak = peakRssOf(readFileSync('/proc/self/status', 'utf8'));
  if (peak === undefined) throw new Error('/proc/self/status has no VmHWM');
  return peak;
}

export const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
