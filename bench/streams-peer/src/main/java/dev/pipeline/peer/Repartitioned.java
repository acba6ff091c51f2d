package dev.pipeline.peer;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

/**
 * What stage 1 writes to the repartition topic, as the consumer's repartition records: an event
 * under one group key stamped with its raw partition's stream time, or that partition's watermark
 * (sent to every repartition partition). A dead letter never reaches the topic: it is split off first.
 * Binary, not JSON: the peer gets the cheapest encoding a Streams user would write.
 */
sealed interface Repartitioned permits Repartitioned.Keyed, Repartitioned.Watermark, Repartitioned.DeadLetter {
  record Keyed(int source, long streamTime, Event event) implements Repartitioned {}

  record Watermark(int source, int sources, long streamTime, boolean idle) implements Repartitioned {}

  /** An invalid raw message: its bytes, bound for the dead-letter topic with the reason in headers. */
  record DeadLetter(byte[] value) implements Repartitioned {}

  static Serde<Repartitioned> serde() {
    Serializer<Repartitioned> serializer = (topic, value) -> write(value);
    Deserializer<Repartitioned> deserializer = (topic, bytes) -> read(bytes);
    return Serdes.serdeFrom(serializer, deserializer);
  }

  private static byte[] write(Repartitioned value) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(128);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      if (value instanceof Keyed k) {
        Event e = k.event();
        out.writeByte(1);
        out.writeInt(k.source());
        out.writeLong(k.streamTime());
        string(out, e.eventId());
        out.writeLong(e.eventTime());
        out.writeByte(e.eventType());
        string(out, e.productId());
        string(out, e.topCategory());
        string(out, e.brand());
        out.writeLong(e.revenueMicros());
        out.writeLong(e.priceMicros());
        string(out, e.userId());
        string(out, e.sessionId());
      } else if (value instanceof Watermark w) {
        out.writeByte(2);
        out.writeInt(w.source());
        out.writeInt(w.sources());
        out.writeLong(w.streamTime());
        out.writeBoolean(w.idle());
      } else {
        throw new IllegalArgumentException("a dead letter is not written to the repartition topic");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  private static Repartitioned read(byte[] bytes) {
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
      byte type = in.readByte();
      if (type == 2) return new Watermark(in.readInt(), in.readInt(), in.readLong(), in.readBoolean());
      if (type != 1) throw new IllegalArgumentException("repartition record type " + type + " is neither event (1) nor watermark (2)");
      int source = in.readInt();
      long streamTime = in.readLong();
      Event e = new Event(string(in), in.readLong(), in.readByte(), string(in), string(in), string(in), in.readLong(), in.readLong(), string(in), string(in));
      return new Keyed(source, streamTime, e);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void string(DataOutputStream out, String s) throws IOException {
    if (s == null) {
      out.writeInt(-1);
      return;
    }
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    out.writeInt(b.length);
    out.write(b);
  }

  private static String string(DataInputStream in) throws IOException {
    int length = in.readInt();
    if (length < 0) return null;
    byte[] b = in.readNBytes(length);
    return new String(b, StandardCharsets.UTF_8);
  }
}
