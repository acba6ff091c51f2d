// The generated raw datasets the consumer's integration tests feed in, and the window settings
// they run the consumer (and the oracle) with.
import { generateRawPartitions, type GeneratedMessage } from './consumer-events';
import type { OracleEvent, OracleOptions } from './oracle';

export const testWindows: OracleOptions = { tumblingSizeMs: 10_000, slidingSizeMs: 30_000, slidingAdvanceMs: 10_000, graceMs: 5_000, groupBy: ['category', 'overall'], topN: 3 };

/** The consumer's WINDOW_* settings for testWindows. */
export function testWindowEnv(): Record<string, string> {
  const w = testWindows;
  return {
    WINDOW_TUMBLING_SIZE_MS: String(w.tumblingSizeMs), WINDOW_SLIDING_SIZE_MS: String(w.slidingSizeMs),
    WINDOW_SLIDING_ADVANCE_MS: String(w.slidingAdvanceMs), WINDOW_GRACE_MS: String(w.graceMs),
    WINDOW_GROUP_BY: w.groupBy.join(','), WINDOW_TOP_N: String(w.topN),
  };
}

/** Three raw partitions of events 300 ms apart with jitter, 4% late, 10% on window boundaries. */
export function testDataset(seed: number, eventsPerPartition: number, malformedShare = 0): GeneratedMessage[][] {
  return generateRawPartitions({
    seed, partitions: 3, eventsPerPartition, start: 1_700_000_000_000, stepMs: 300, jitterMs: 6_000,
    lateShare: 0.04, lateByMs: 20_000, boundaryMs: 5_000, boundaryShare: 0.1, malformedShare,
  });
}

/**
 * One far-future event at the end of each partition: it closes every window of the data without
 * the idle rule, whose wall-clock timing would make a test that feeds data in slices nondeterministic.
 */
export function withSentinels(raw: GeneratedMessage[][]): GeneratedMessage[][] {
  const last = Math.max(...raw.flat().filter((m) => !m.malformed).map((m) => (JSON.parse(m.value) as OracleEvent).eventTime));
  const eventTime = last + 10 * testWindows.slidingSizeMs;
  return raw.map((messages, p) => [...messages, {
    key: `sentinel-${p}`,
    value: JSON.stringify({ schemaVersion: 1, eventId: `sentinel-${p}`, eventTime, eventType: 'view', productId: 'p0', categoryId: null, categoryCode: null, brand: null, price: 0, quantity: 1, userId: null, sessionId: null, country: null, source: 'custom' }),
  }]);
}

/** Slice k of n of every partition, so data can arrive while instances come and go. */
export function sliceOf(raw: GeneratedMessage[][], k: number, n: number): GeneratedMessage[][] {
  return raw.map((messages) => messages.slice(Math.floor((k * messages.length) / n), Math.floor(((k + 1) * messages.length) / n)));
}
