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

/** Every window of a spec containing time t, oldest first; starts are multiples of the advance and never negative. */
export function windowsContaining(spec: WindowSpec, t: number): WindowBounds[] {
  const latestStart = t - (t % spec.advanceMs);
  const windows: WindowBounds[] = [];
  for (let start = latestStart; start > t - spec.sizeMs && start >= 0; start -= spec.advanceMs) {
    windows.unshift({ start, end: start + spec.sizeMs });
  }
  return windows;
}

/** The stream time at which a window's final result is due. */
export function closeTime(window: WindowBounds, graceMs: number): number {
  return window.end + graceMs;
}
