package dev.pipeline.peer;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/**
 * The peer's settings from one properties file: keys starting with {@code peer.} are the job's
 * (topics, windows, the run's end), every other key goes to Kafka Streams unchanged.
 */
final class PeerSettings {
  final Properties streams = new Properties();
  final String rawTopic;
  final String processedTopic;
  final String lateTopic;
  final String deadLetterTopic;
  final int rawPartitions;
  final int repartitionPartitions;
  final long tumblingSizeMs;
  final long slidingSizeMs;
  final long slidingAdvanceMs;
  final long graceMs;
  final List<String> groupBy;
  final int topN;
  final long idleTimeoutMs;
  /** How long the window store keeps a window: must exceed how far one raw partition runs ahead of another. */
  final long retentionMs;
  /** Stop after this many window results are committed; 0 = run until SIGTERM. */
  final long expectWindows;

  PeerSettings(Path file) throws IOException {
    Properties all = new Properties();
    try (InputStream in = Files.newInputStream(file)) {
      all.load(in);
    }
    for (String name : all.stringPropertyNames()) {
      if (!name.startsWith("peer.")) streams.setProperty(name, all.getProperty(name));
    }
    rawTopic = required(all, "peer.topic.raw");
    processedTopic = required(all, "peer.topic.processed");
    lateTopic = required(all, "peer.topic.late");
    deadLetterTopic = required(all, "peer.topic.dead-letter");
    rawPartitions = (int) number(all, "peer.raw-partitions", 1, 10_000);
    repartitionPartitions = (int) number(all, "peer.repartition-partitions", 1, 10_000);
    tumblingSizeMs = number(all, "peer.window.tumbling-size-ms", 1, Long.MAX_VALUE);
    slidingSizeMs = number(all, "peer.window.sliding-size-ms", 1, Long.MAX_VALUE);
    slidingAdvanceMs = number(all, "peer.window.sliding-advance-ms", 1, slidingSizeMs);
    graceMs = number(all, "peer.window.grace-ms", 0, Long.MAX_VALUE);
    topN = (int) number(all, "peer.window.top-n", 1, 100);
    idleTimeoutMs = number(all, "peer.idle-timeout-ms", 0, Long.MAX_VALUE);
    retentionMs = number(all, "peer.window.retention-ms", slidingSizeMs + graceMs, Long.MAX_VALUE);
    expectWindows = number(all, "peer.expect-windows", 0, Long.MAX_VALUE);
    groupBy = new ArrayList<>();
    for (String kind : required(all, "peer.window.group-by").split(",")) {
      String k = kind.trim();
      if (!k.equals("category") && !k.equals("brand") && !k.equals("overall")) {
        throw new IllegalArgumentException("peer.window.group-by entry '" + k + "' is not one of category, brand, overall");
      }
      groupBy.add(k);
    }
    if (slidingSizeMs % slidingAdvanceMs != 0) {
      throw new IllegalArgumentException("peer.window.sliding-size-ms must be a multiple of peer.window.sliding-advance-ms");
    }
  }

  private static String required(Properties p, String name) {
    String value = p.getProperty(name);
    if (value == null || value.isBlank()) throw new IllegalArgumentException("setting " + name + " is missing");
    return value.trim();
  }

  private static long number(Properties p, String name, long min, long max) {
    String text = required(p, name);
    long value;
    try {
      value = Long.parseLong(text);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("setting " + name + "=" + text + " is not an integer", e);
    }
    if (value < min || value > max) throw new IllegalArgumentException("setting " + name + "=" + value + " is outside " + min + ".." + max);
    return value;
  }
}
