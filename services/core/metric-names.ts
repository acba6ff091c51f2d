// Every metric the services export, named once: the services register them under these names and
// the Grafana dashboards query them, so a rename cannot leave a dead panel behind.
export const metricNames = {
  producer: {
    rowsRead: 'producer_rows_read_total',
    rowsSent: 'producer_rows_sent_total',
    /** label: reason */
    rowsRejected: 'producer_rows_rejected_total',
    bytesRead: 'producer_bytes_read_total',
    /** histogram, seconds */
    sendDuration: 'producer_send_duration_seconds',
    inflightBatches: 'producer_inflight_batches',
  },
  consumer: {
    eventsConsumed: 'consumer_events_consumed_total',
    /** label: window (tumbling|sliding) */
    windowsEmitted: 'consumer_windows_emitted_total',
    /** label: window */
    lateEvents: 'consumer_late_events_total',
    /** label: reason */
    deadLetters: 'consumer_dead_letter_total',
    /** gauge, label: window */
    openWindows: 'consumer_open_windows',
    /** gauge, labels: topic, partition */
    lag: 'consumer_lag',
    /** histogram, seconds */
    processingDuration: 'consumer_processing_duration_seconds',
    /** label: result (commit|abort) */
    transactions: 'consumer_transactions_total',
    /** revenue in emitted final tumbling windows; label: category (top-level, bounded) */
    windowRevenue: 'consumer_window_revenue_total',
    /** events in emitted final tumbling windows; labels: category, event_type */
    windowEvents: 'consumer_window_events_total',
  },
} as const;
