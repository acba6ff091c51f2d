package dev.pipeline.peer;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Stage 1, one instance per raw partition (services/consumer/repartition-stage.ts): validates,
 * enriches, stamps each event with this partition's own stream time (the largest event time read
 * from it, kept in a changelogged store so it survives restarts exactly like the consumer's offset
 * metadata) and fans it out under its group keys. Lateness is decided from that stamp downstream,
 * never from Kafka Streams' stream time, which after repartitioning mixes partitions read at
 * different speeds. A wall-clock punctuation broadcasts the stream time as a watermark when it
 * advanced, and applies the idle rule.
 */
final class SourceProcessor implements Processor<byte[], byte[], byte[], Repartitioned> {
  static final String STORE = "peer-source-state";

  private final PeerSettings settings;
  private final Admin admin;
  private ProcessorContext<byte[], Repartitioned> context;
  private KeyValueStore<Integer, byte[]> store;
  private int partition;
  private long streamTime = -1;
  /** The next raw offset to read: "caught up" when it reaches the partition's end. */
  private long nextOffset = 0;
  private boolean readSinceOpen = false;
  private Long broadcast = null;
  private long lastActivity;
  private boolean idleSent = false;

  SourceProcessor(PeerSettings settings, Admin admin) {
    this.settings = settings;
    this.admin = admin;
  }

  @Override
  public void init(ProcessorContext<byte[], Repartitioned> context) {
    this.context = context;
    this.store = context.getStateStore(STORE);
    this.partition = context.taskId().partition();
    byte[] saved = store.get(partition);
    if (saved != null) {
      ByteBuffer b = ByteBuffer.wrap(saved);
      streamTime = b.getLong();
      nextOffset = b.getLong();
    }
    lastActivity = System.currentTimeMillis();
    // The consumer broadcasts after every fetched batch; 100 ms of wall clock is about as often.
    context.schedule(Duration.ofMillis(100), PunctuationType.WALL_CLOCK_TIME, now -> tick());
  }

  @Override
  public void process(Record<byte[], byte[]> record) {
    Event.Check check = Event.parse(record.value());
    long offset = context.recordMetadata().map(m -> m.offset()).orElse(nextOffset);
    if (check.event() == null) {
      RecordHeaders headers = new RecordHeaders();
      headers.add("origin", bytes("streams-peer"));
      headers.add("reason", bytes(check.reason()));
      headers.add("source.topic", bytes(settings.rawTopic));
      headers.add("source.partition", bytes(String.valueOf(partition)));
      headers.add("source.offset", bytes(String.valueOf(offset)));
      context.forward(new Record<>(record.key(), new Repartitioned.DeadLetter(record.value()), record.timestamp(), headers));
    } else {
      Event event = check.event();
      streamTime = Math.max(streamTime, event.eventTime());
      for (String kind : settings.groupBy) {
        context.forward(new Record<>(bytes(event.groupKey(kind)), new Repartitioned.Keyed(partition, streamTime, event), event.eventTime()));
      }
    }
    nextOffset = offset + 1;
    // Every record: the store's cache keeps the last value, and a commit flushes it with the offsets.
    store.put(partition, ByteBuffer.allocate(16).putLong(streamTime).putLong(nextOffset).array());
    readSinceOpen = true;
    lastActivity = System.currentTimeMillis();
    idleSent = false;
  }

  private void tick() {
    if (readSinceOpen && (broadcast == null || streamTime > broadcast)) {
      broadcastWatermark(false);
      broadcast = streamTime;
    }
    if (settings.idleTimeoutMs > 0 && !idleSent && System.currentTimeMillis() - lastActivity >= settings.idleTimeoutMs && caughtUp()) {
      broadcastWatermark(true);
      idleSent = true;
    }
  }

  private void broadcastWatermark(boolean idle) {
    Repartitioned.Watermark w = new Repartitioned.Watermark(partition, settings.rawPartitions, streamTime, idle);
    context.forward(new Record<>(bytes("watermark:" + partition), w, Math.max(0, streamTime)));
  }

  /** Nothing left to read: the partition's last stable offset is where this task stands. */
  private boolean caughtUp() {
    TopicPartition tp = new TopicPartition(settings.rawTopic, partition);
    try {
      long end = admin.listOffsets(Map.of(tp, OffsetSpec.latest()), new ListOffsetsOptions(IsolationLevel.READ_COMMITTED))
          .partitionResult(tp).get().offset();
      return nextOffset >= end;
    } catch (ExecutionException e) {
      return false; // asked again at the next tick
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
