package dev.pipeline.peer;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.WindowStore;

/**
 * Stage 2, one instance per repartition partition: the consumer's window engine
 * (services/consumer/window-engine.ts) on Kafka Streams state stores. Lateness comes from the
 * record's raw-partition stream time; a window closes when the minimum over raw partitions (idle
 * ones aside) reaches end + grace, and only then is its one final result forwarded.
 *
 * State: a RocksDB window store with a changelog, one entry per window × group key × id (the
 * running counts, each distinct user, each distinct session, each purchased product), so an update
 * writes a few bytes instead of re-serialising a whole id set; and a key-value store for the
 * per-source stream times, the close position and the late-record counts.
 */
final class WindowProcessor implements Processor<byte[], Repartitioned, byte[], WindowProcessor.Output> {
  static final String WINDOWS = "peer-windows";
  static final String META = "peer-window-meta";

  /** A record for the processed or the late topic. */
  record Output(String topic, byte[] value) {}

  private static final String[] KINDS = {"tumbling", "sliding"};
  private static final byte AGG = 'a';
  private static final byte USER = 'u';
  private static final byte SESSION = 's';
  private static final byte PRODUCT = 'p';
  private static final byte[] PRESENT = {1};
  private static final JsonFactory JSON = new JsonFactory();
  private static final DateTimeFormatter ISO = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

  private record OpenWindow(int kind, String key, long start, long end, String id) {}

  private static final class SourceState {
    long streamTime;
    boolean idle;

    SourceState(long streamTime, boolean idle) {
      this.streamTime = streamTime;
      this.idle = idle;
    }
  }

  /** Late records of one kind and key, as the stream times they were found late at (see window-engine.ts). */
  private static final class LateTrack {
    long base;
    List<Long> pending = new ArrayList<>();
  }

  private final PeerSettings settings;
  private final long[] sizes;
  private final long[] advances;
  private ProcessorContext<byte[], Output> context;
  private WindowStore<Bytes, byte[]> windows;
  private KeyValueStore<String, byte[]> meta;
  private final Map<String, OpenWindow> open = new HashMap<>();
  private final Map<Integer, SourceState> sources = new HashMap<>();
  private final Map<String, LateTrack> lateTracks = new HashMap<>();
  private final Set<String> dirtyLate = new HashSet<>();
  private boolean metaDirty = false;
  private int sourceCount = 0;
  private long closedThrough = -1;

  WindowProcessor(PeerSettings settings) {
    this.settings = settings;
    this.sizes = new long[] {settings.tumblingSizeMs, settings.slidingSizeMs};
    this.advances = new long[] {settings.tumblingSizeMs, settings.slidingAdvanceMs};
  }

  @Override
  public void init(ProcessorContext<byte[], Output> context) {
    this.context = context;
    this.windows = context.getStateStore(WINDOWS);
    this.meta = context.getStateStore(META);
    restore();
  }

  @Override
  public void process(Record<byte[], Repartitioned> record) {
    if (record.value() instanceof Repartitioned.Keyed k) onEvent(new String(record.key(), StandardCharsets.UTF_8), k);
    else if (record.value() instanceof Repartitioned.Watermark w) onWatermark(w);
    persist();
  }

  private void onEvent(String key, Repartitioned.Keyed record) {
    noteSource(record.source(), record.streamTime(), false);
    long closedAt = Math.max(record.streamTime(), closedThrough);
    Event event = record.event();
    for (int kind = 0; kind < KINDS.length; kind++) {
      List<long[]> missed = new ArrayList<>();
      for (long[] bounds : windowsContaining(kind, event.eventTime())) {
        if (bounds[1] + settings.graceMs <= closedAt) missed.add(bounds);
        else addTo(kind, key, bounds[0], bounds[1], event);
      }
      if (!missed.isEmpty()) {
        forwardLate(kind, key, record.streamTime(), missed, event);
        trackLate(kind, key, record.streamTime());
      }
    }
  }

  private void onWatermark(Repartitioned.Watermark w) {
    sourceCount = Math.max(sourceCount, w.sources());
    noteSource(w.source(), w.streamTime(), w.idle());
    metaDirty = true;
    Long watermark = watermark();
    if (watermark == null || watermark <= closedThrough) return;
    closedThrough = watermark;
    closeThrough(watermark);
    foldLate(watermark);
  }

  /** Every window of a kind containing t, oldest first; starts are multiples of the advance and never negative. */
  private List<long[]> windowsContaining(int kind, long t) {
    long latestStart = t - (t % advances[kind]);
    List<long[]> result = new ArrayList<>();
    for (long start = latestStart; start > t - sizes[kind] && start >= 0; start -= advances[kind]) result.add(0, new long[] {start, start + sizes[kind]});
    return result;
  }

  private void noteSource(int source, long streamTime, boolean idle) {
    SourceState state = sources.get(source);
    if (state == null) {
      sources.put(source, new SourceState(streamTime, idle));
      metaDirty = true;
      return;
    }
    if (state.idle != idle || state.streamTime < streamTime) metaDirty = true;
    state.streamTime = Math.max(state.streamTime, streamTime);
    state.idle = idle;
  }

  private Long watermark() {
    if (sourceCount == 0) return null;
    long min = Long.MAX_VALUE;
    long max = Long.MIN_VALUE;
    boolean anyActive = false;
    for (int s = 0; s < sourceCount; s++) {
      SourceState state = sources.get(s);
      if (state == null) return null;
      max = Math.max(max, state.streamTime);
      if (!state.idle) {
        anyActive = true;
        min = Math.min(min, state.streamTime);
      }
    }
    return anyActive ? min : max;
  }

  private void addTo(int kind, String key, long start, long end, Event event) {
    String id = KINDS[kind] + "|" + key + "|" + start;
    byte[] prefix = prefix(kind, start, key);
    Bytes aggKey = entry(prefix, AGG, "");
    byte[] saved = windows.fetch(aggKey, start);
    ByteBuffer agg = saved == null ? ByteBuffer.allocate(9 * 8) : ByteBuffer.wrap(saved);
    if (saved == null) open.put(id, new OpenWindow(kind, key, start, end, id));
    // Layout: events by type [0..4], revenue, purchase prices, distinct users, distinct sessions.
    agg.putLong(event.eventType() * 8, agg.getLong(event.eventType() * 8) + 1);
    if (event.userId() != null) {
      Bytes user = entry(prefix, USER, event.userId());
      if (windows.fetch(user, start) == null) {
        windows.put(user, PRESENT, start);
        agg.putLong(7 * 8, agg.getLong(7 * 8) + 1);
      }
    }
    if (event.sessionId() != null) {
      Bytes session = entry(prefix, SESSION, event.sessionId());
      if (windows.fetch(session, start) == null) {
        windows.put(session, PRESENT, start);
        agg.putLong(8 * 8, agg.getLong(8 * 8) + 1);
      }
    }
    if (event.eventType() == Event.PURCHASE) {
      agg.putLong(5 * 8, agg.getLong(5 * 8) + event.revenueMicros());
      agg.putLong(6 * 8, agg.getLong(6 * 8) + event.priceMicros());
      Bytes product = entry(prefix, PRODUCT, event.productId());
      byte[] p = windows.fetch(product, start);
      ByteBuffer pb = p == null ? ByteBuffer.allocate(16) : ByteBuffer.wrap(p);
      pb.putLong(0, pb.getLong(0) + event.revenueMicros()).putLong(8, pb.getLong(8) + 1);
      windows.put(product, pb.array(), start);
    }
    windows.put(aggKey, agg.array(), start);
  }

  private void closeThrough(long watermark) {
    List<OpenWindow> due = new ArrayList<>();
    for (OpenWindow w : open.values()) if (w.end() + settings.graceMs <= watermark) due.add(w);
    due.sort(Comparator.comparingLong(OpenWindow::end).thenComparing(OpenWindow::id));
    for (OpenWindow w : due) {
      open.remove(w.id());
      byte[] prefix = prefix(w.kind(), w.start(), w.key());
      long[] agg = new long[9];
      Map<String, long[]> products = new HashMap<>();
      byte[] to = java.util.Arrays.copyOf(prefix, prefix.length + 1);
      to[prefix.length] = (byte) 0xFF;
      try (KeyValueIterator<Windowed<Bytes>, byte[]> it = windows.fetch(Bytes.wrap(prefix), Bytes.wrap(to), w.start(), w.start())) {
        while (it.hasNext()) {
          KeyValue<Windowed<Bytes>, byte[]> kv = it.next();
          byte[] k = kv.key.key().get();
          if (k.length <= prefix.length) continue;
          byte tag = k[prefix.length];
          if (tag == AGG) {
            ByteBuffer b = ByteBuffer.wrap(kv.value);
            for (int i = 0; i < 9; i++) agg[i] = b.getLong(i * 8);
          } else if (tag == PRODUCT) {
            ByteBuffer b = ByteBuffer.wrap(kv.value);
            products.put(new String(k, prefix.length + 1, k.length - prefix.length - 1, StandardCharsets.UTF_8), new long[] {b.getLong(0), b.getLong(8)});
          }
        }
      }
      // Only the counts entry is removed: it marks the window open for a restart; ids expire with the store's retention.
      windows.put(entry(prefix, AGG, ""), null, w.start());
      long late = lateBefore(w.kind(), w.key(), w.end() + settings.graceMs);
      // Stamped with the wall clock, as the consumer's results are: an event-time stamp years old would
      // be past the output topic's retention.ms, and the broker's next retention check deletes it.
      context.forward(new Record<>(SourceProcessor.bytes(w.id()), new Output(settings.processedTopic, result(w, agg, products, late)), context.currentSystemTimeMs()));
    }
  }

  private byte[] result(OpenWindow w, long[] agg, Map<String, long[]> products, long lateRecords) {
    long total = 0;
    for (int t = 0; t < 5; t++) total += agg[t];
    long events = total;
    long purchases = agg[Event.PURCHASE];
    long views = agg[Event.VIEW];
    List<Map.Entry<String, long[]>> top = new ArrayList<>(products.entrySet());
    top.sort((a, b) -> a.getValue()[0] != b.getValue()[0] ? Long.compare(b.getValue()[0], a.getValue()[0]) : a.getKey().compareTo(b.getKey()));
    return json(g -> {
      g.writeStartObject();
      g.writeNumberField("schemaVersion", 1);
      g.writeStringField("windowKind", KINDS[w.kind()]);
      g.writeNumberField("windowSizeMs", sizes[w.kind()]);
      g.writeNumberField("windowAdvanceMs", advances[w.kind()]);
      g.writeStringField("windowStart", ISO.format(Instant.ofEpochMilli(w.start())));
      g.writeStringField("windowEnd", ISO.format(Instant.ofEpochMilli(w.end())));
      g.writeNumberField("windowStartMs", w.start());
      g.writeNumberField("windowEndMs", w.end());
      g.writeStringField("key", w.key());
      g.writeNumberField("events", events);
      g.writeObjectFieldStart("eventsByType");
      for (int t = 0; t < 5; t++) g.writeNumberField(Event.TYPES.get(t), agg[t]);
      g.writeEndObject();
      g.writeNumberField("purchases", purchases);
      g.writeFieldName("revenue");
      g.writeNumber(micros(agg[5]));
      g.writeFieldName("averagePurchasePrice");
      if (purchases == 0) g.writeNull();
      else g.writeNumber(micros(Math.round((double) agg[6] / purchases)));
      g.writeNumberField("distinctUsers", agg[7]);
      g.writeNumberField("distinctSessions", agg[8]);
      g.writeFieldName("viewToPurchaseConversion");
      if (views == 0) g.writeNull();
      else g.writeNumber((double) purchases / views);
      g.writeArrayFieldStart("topProducts");
      for (Map.Entry<String, long[]> p : top.subList(0, Math.min(settings.topN, top.size()))) {
        g.writeStartObject();
        g.writeStringField("productId", p.getKey());
        g.writeFieldName("revenue");
        g.writeNumber(micros(p.getValue()[0]));
        g.writeNumberField("purchases", p.getValue()[1]);
        g.writeEndObject();
      }
      g.writeEndArray();
      g.writeNumberField("lateRecords", lateRecords);
      g.writeEndObject();
    });
  }

  private void forwardLate(int kind, String key, long streamTime, List<long[]> missed, Event event) {
    byte[] value = json(g -> {
      g.writeStartObject();
      g.writeStringField("reason", "late");
      g.writeStringField("windowKind", KINDS[kind]);
      g.writeStringField("key", key);
      g.writeNumberField("streamTime", streamTime);
      g.writeArrayFieldStart("missedWindows");
      for (long[] m : missed) {
        g.writeStartObject();
        g.writeNumberField("startMs", m[0]);
        g.writeNumberField("endMs", m[1]);
        g.writeStringField("start", ISO.format(Instant.ofEpochMilli(m[0])));
        g.writeStringField("end", ISO.format(Instant.ofEpochMilli(m[1])));
        g.writeEndObject();
      }
      g.writeEndArray();
      g.writeFieldName("event");
      event.write(g);
      g.writeEndObject();
    });
    RecordHeaders headers = new RecordHeaders();
    headers.add("reason", SourceProcessor.bytes("late"));
    headers.add("window.kind", SourceProcessor.bytes(KINDS[kind]));
    byte[] recordKey = SourceProcessor.bytes(KINDS[kind] + "|" + key + "|" + event.eventId());
    context.forward(new Record<>(recordKey, new Output(settings.lateTopic, value), context.currentSystemTimeMs(), headers));
  }

  private void trackLate(int kind, String key, long streamTime) {
    String id = KINDS[kind] + "|" + key;
    LateTrack track = lateTracks.computeIfAbsent(id, x -> new LateTrack());
    if (streamTime < closedThrough) track.base += 1;
    else track.pending.add(streamTime);
    dirtyLate.add(id);
  }

  private long lateBefore(int kind, String key, long close) {
    LateTrack track = lateTracks.get(KINDS[kind] + "|" + key);
    if (track == null) return 0;
    return track.base + track.pending.stream().filter(t -> t < close).count();
  }

  private void foldLate(long watermark) {
    for (Map.Entry<String, LateTrack> e : lateTracks.entrySet()) {
      LateTrack track = e.getValue();
      List<Long> keep = new ArrayList<>();
      for (long t : track.pending) if (t >= watermark) keep.add(t);
      if (keep.size() == track.pending.size()) continue;
      track.base += track.pending.size() - keep.size();
      track.pending = keep;
      dirtyLate.add(e.getKey());
    }
  }

  /** Writes what changed to the metadata store; its cache keeps only the last value until the commit. */
  private void persist() {
    if (metaDirty) {
      ByteBuffer b = ByteBuffer.allocate(4 + 8 + 4 + sources.size() * 13);
      b.putInt(sourceCount).putLong(closedThrough).putInt(sources.size());
      for (Map.Entry<Integer, SourceState> e : sources.entrySet()) b.putInt(e.getKey()).putLong(e.getValue().streamTime).put((byte) (e.getValue().idle ? 1 : 0));
      meta.put("meta", b.array());
      metaDirty = false;
    }
    for (String id : dirtyLate) {
      LateTrack track = lateTracks.get(id);
      ByteBuffer b = ByteBuffer.allocate(8 + 4 + track.pending.size() * 8);
      b.putLong(track.base).putInt(track.pending.size());
      for (long t : track.pending) b.putLong(t);
      meta.put("l|" + id, b.array());
    }
    dirtyLate.clear();
  }

  /** After a restart or a rebalance: the stores are restored from their changelogs; rebuild what is kept in memory. */
  private void restore() {
    byte[] m = meta.get("meta");
    if (m != null) {
      ByteBuffer b = ByteBuffer.wrap(m);
      sourceCount = b.getInt();
      closedThrough = b.getLong();
      int n = b.getInt();
      for (int i = 0; i < n; i++) sources.put(b.getInt(), new SourceState(b.getLong(), b.get() == 1));
    }
    try (KeyValueIterator<String, byte[]> it = meta.prefixScan("l|", org.apache.kafka.common.serialization.Serdes.String().serializer())) {
      while (it.hasNext()) {
        KeyValue<String, byte[]> kv = it.next();
        ByteBuffer b = ByteBuffer.wrap(kv.value);
        LateTrack track = new LateTrack();
        track.base = b.getLong();
        int n = b.getInt();
        for (int i = 0; i < n; i++) track.pending.add(b.getLong());
        lateTracks.put(kv.key.substring(2), track);
      }
    }
    try (KeyValueIterator<Windowed<Bytes>, byte[]> it = windows.all()) {
      while (it.hasNext()) {
        KeyValue<Windowed<Bytes>, byte[]> kv = it.next();
        ByteBuffer k = ByteBuffer.wrap(kv.key.key().get());
        int kind = k.get();
        long start = k.getLong();
        byte[] keyBytes = new byte[k.getInt()];
        k.get(keyBytes);
        if (k.get() != AGG) continue;
        String key = new String(keyBytes, StandardCharsets.UTF_8);
        String id = KINDS[kind] + "|" + key + "|" + start;
        open.put(id, new OpenWindow(kind, key, start, start + sizes[kind], id));
      }
    }
  }

  /** kind, window start, group key: every entry of one window and key shares it, so they sit side by side. */
  private static byte[] prefix(int kind, long start, String key) {
    byte[] k = key.getBytes(StandardCharsets.UTF_8);
    return ByteBuffer.allocate(1 + 8 + 4 + k.length).put((byte) kind).putLong(start).putInt(k.length).put(k).array();
  }

  private static Bytes entry(byte[] prefix, byte tag, String id) {
    byte[] i = id.getBytes(StandardCharsets.UTF_8);
    return Bytes.wrap(ByteBuffer.allocate(prefix.length + 1 + i.length).put(prefix).put(tag).put(i).array());
  }

  /** Integer millionths as the consumer prints micros / 1e6: plain decimal, no trailing zeros. */
  static String micros(long micros) {
    return java.math.BigDecimal.valueOf(micros, 6).stripTrailingZeros().toPlainString();
  }

  private interface Writer {
    void write(JsonGenerator g) throws IOException;
  }

  private static byte[] json(Writer writer) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(512);
    try (JsonGenerator g = JSON.createGenerator(out)) {
      writer.write(g);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

}
