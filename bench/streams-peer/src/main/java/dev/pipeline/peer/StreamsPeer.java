package dev.pipeline.peer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Utils;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Branched;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Repartitioned;
import org.apache.kafka.streams.processor.StreamPartitioner;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;

/**
 * The consumer's job as a Kafka Streams application, the benchmark's peer:
 * raw → [stage 1: validate, enrich, stamp, fan out] → repartition → [stage 2: windows] → results.
 *
 *   java -cp '.cache/streams-peer/VERSION/libs/*' dev.pipeline.peer.StreamsPeer peer.properties
 *
 * With peer.expect-windows = N it watches its own output topic (read_committed) and, once N
 * results are committed, prints one JSON line {"done":…} with its peak RSS and exits 0.
 */
public final class StreamsPeer {
  private StreamsPeer() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 1) {
      System.err.println("usage: StreamsPeer <peer.properties>");
      System.exit(2);
    }
    PeerSettings settings = new PeerSettings(Path.of(args[0]));
    settings.streams.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    Admin admin = Admin.create(clientOnly(settings.streams));
    KafkaStreams streams = new KafkaStreams(topology(settings, admin).build(), settings.streams);
    CountDownLatch failed = new CountDownLatch(1);
    streams.setUncaughtExceptionHandler(error -> {
      System.err.println("streams-peer: stream thread failed: " + error);
      error.printStackTrace();
      failed.countDown();
      return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
    });
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      streams.close(Duration.ofSeconds(20));
      admin.close();
    }));
    streams.start();
    if (settings.expectWindows == 0) {
      failed.await();
      System.exit(1);
    }
    long committed = watchOutput(settings, failed);
    if (committed < 0) System.exit(1);
    System.out.printf("{\"done\":true,\"windows\":%d,\"atMs\":%d,\"peakRssKiB\":%d}%n", committed, System.currentTimeMillis(), peakRssKiB());
    System.out.flush();
    System.exit(0);
  }

  static StreamsBuilder topology(PeerSettings s, Admin admin) {
    StreamsBuilder builder = new StreamsBuilder();
    builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(SourceProcessor.STORE), Serdes.Integer(), Serdes.ByteArray()));
    builder.addStateStore(Stores.windowStoreBuilder(
        Stores.persistentWindowStore(WindowProcessor.WINDOWS, Duration.ofMillis(s.retentionMs), Duration.ofMillis(s.slidingSizeMs), false),
        Serdes.Bytes(), Serdes.ByteArray()));
    builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(WindowProcessor.META), Serdes.String(), Serdes.ByteArray()));

    Serde<dev.pipeline.peer.Repartitioned> records = dev.pipeline.peer.Repartitioned.serde();
    KStream<byte[], dev.pipeline.peer.Repartitioned> stamped = builder
        .stream(s.rawTopic, Consumed.with(Serdes.ByteArray(), Serdes.ByteArray()).withName("raw"))
        .process(() -> new SourceProcessor(s, admin), Named.as("stage-1"), SourceProcessor.STORE);
    Map<String, KStream<byte[], dev.pipeline.peer.Repartitioned>> split = stamped.split(Named.as("stage-1-"))
        .branch((k, v) -> v instanceof dev.pipeline.peer.Repartitioned.DeadLetter, Branched.as("dead-letters"))
        .defaultBranch(Branched.as("records"));
    split.get("stage-1-dead-letters")
        .mapValues(v -> ((dev.pipeline.peer.Repartitioned.DeadLetter) v).value(), Named.as("dead-letter-bytes"))
        .to(s.deadLetterTopic, Produced.with(Serdes.ByteArray(), Serdes.ByteArray()).withName("dead-letter-topic"));
    split.get("stage-1-records")
        .repartition(Repartitioned.<byte[], dev.pipeline.peer.Repartitioned>with(Serdes.ByteArray(), records)
            .withName("events").withNumberOfPartitions(s.repartitionPartitions).withStreamPartitioner(partitioner()))
        .process(() -> new WindowProcessor(s), Named.as("stage-2"), WindowProcessor.WINDOWS, WindowProcessor.META)
        .to((key, value, context) -> value.topic(), Produced.<byte[], WindowProcessor.Output>with(Serdes.ByteArray(), Serdes.serdeFrom(
            (topic, out) -> out.value(), (topic, bytes) -> { throw new UnsupportedOperationException("outputs are not read back"); })).withName("outputs"));
    return builder;
  }

  /** Events by group key (murmur2, as Kafka's default); a watermark to every partition. */
  private static StreamPartitioner<byte[], dev.pipeline.peer.Repartitioned> partitioner() {
    return (topic, key, value, partitions) -> value instanceof dev.pipeline.peer.Repartitioned.Watermark
        ? Optional.of(IntStream.range(0, partitions).boxed().collect(Collectors.toSet()))
        : Optional.of(Set.of(Utils.toPositive(Utils.murmur2(key)) % partitions));
  }

  /** The connection and TLS settings only, for the admin client and the output watcher. */
  private static Properties clientOnly(Properties streams) {
    Properties p = new Properties();
    for (String name : streams.stringPropertyNames()) {
      if (name.equals("bootstrap.servers") || name.startsWith("security.") || name.startsWith("ssl.")) p.setProperty(name, streams.getProperty(name));
    }
    return p;
  }

  /** Counts committed results on the output topic until the expected number is reached; -1 if the streams client failed first. */
  private static long watchOutput(PeerSettings s, CountDownLatch failed) {
    Properties p = clientOnly(s.streams);
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> partitions = consumer.partitionsFor(s.processedTopic).stream()
          .map(info -> new TopicPartition(info.topic(), info.partition())).toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      long count = 0;
      while (count < s.expectWindows) {
        if (failed.getCount() == 0) return -1;
        ConsumerRecords<byte[], byte[]> batch = consumer.poll(Duration.ofMillis(200));
        count += batch.count();
      }
      return count;
    }
  }

  private static long peakRssKiB() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmHWM:")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    } catch (java.io.IOException | NumberFormatException e) {
      return -1;
    }
    return -1;
  }
}
