// Window arithmetic shared by both stages: which windows an event time falls into, and when a
// window closes. A window is [start, end); it closes once stream time reaches end + grace.

export const windowKinds = ['tumbling', 'sliding'] as const;
export type WindowKind = (typeof windowKinds)[number];

export interface WindowSpec {
  kind: WindowKind;
  sizeMs: number;
  /** Equal to sizeMs for tumbling windows. */
  advanceMs: number;
}

export interface WindowBounds {
  start: number;
  end: number;
}

/**
 * The start of the oldest window of a spec containing time t. The windows containing t start there
 * and every advance after it up to t - (t % advance); starts are multiples of the advance and never negative.
 */
export function oldestStartContaining(spec: WindowSpec, t: number): number {
  const latestStart = t - (t % spec.advanceMs);
  const reach = Math.min(Math.floor((spec.sizeMs - 1 - (t - latestStart)) / spec.advanceMs), Math.floor(latestStart / spec.advanceMs));
  return latestStart - Math.max(0, reach) * spec.advanceMs;
}

/** The stream time at which a window's final result is due. */
export function closeTime(window: WindowBounds, graceMs: number): number {
  return window.end + graceMs;
}
