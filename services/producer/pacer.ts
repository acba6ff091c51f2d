// Pacing: how long to wait before sending the next event. `max` never waits; `rate` spaces events
// evenly; `replay` reproduces the gaps between event times, divided by the speed factor. Schedules
// are absolute (due = start + offset), so sleeping late never accumulates drift.
import type { Pace } from './config';

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** Sleeping shorter than this costs more than it paces: events that are only slightly early go now. */
const minSleepMs = 4;

export class Pacer {
  private start: number | undefined;
  private firstEventTime: number | undefined;
  private count = 0;

  constructor(private readonly pace: Pace, private readonly clock: Clock = systemClock) {}

  /** Milliseconds until the next event (with this event time) is due; 0 means send now. */
  delayFor(eventTime: number): number {
    if (this.pace.mode === 'max') return 0;
    const now = this.clock.now();
    this.start ??= now;
    let due: number;
    if (this.pace.mode === 'rate') {
      due = this.start + (this.count * 1000) / this.pace.eventsPerSecond;
    } else {
      this.firstEventTime ??= eventTime;
      // An event older than the first (out of order) is simply due now.
      due = this.start + Math.max(0, eventTime - this.firstEventTime) / this.pace.speed;
    }
    this.count++;
    const delay = due - now;
    return delay >= minSleepMs ? delay : 0;
  }

  sleep(ms: number): Promise<void> {
    return this.clock.sleep(ms);
  }
}
