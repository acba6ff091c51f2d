package dev.pipeline.peer;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.List;
import java.util.Locale;

/**
 * The consumer's enriched event (services/consumer/enrich.ts), and the raw message's validation
 * (services/core/event.ts checkEvent) with the same rules and the same reasons.
 */
record Event(
    String eventId, long eventTime, int eventType, String productId, String topCategory, String brand,
    long revenueMicros, long priceMicros, String userId, String sessionId) {

  static final List<String> TYPES = List.of("view", "cart", "remove_from_cart", "purchase", "refund");
  static final int VIEW = 0;
  static final int PURCHASE = 3;
  // Like JSON.parse: text after the value makes the whole message invalid.
  private static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
  private static final double MAX_SAFE_INTEGER = 9007199254740991d;

  /** An event, or why the message is not one. */
  record Check(Event event, String reason) {}

  static Check parse(byte[] payload) {
    if (payload == null || payload.length == 0) return bad("empty message");
    JsonNode v;
    try {
      v = JSON.readTree(payload);
    } catch (IOException e) {
      return bad("not JSON: " + (e instanceof com.fasterxml.jackson.core.JsonProcessingException j ? j.getOriginalMessage() : e.getMessage()));
    }
    if (v == null || !v.isObject()) return bad("not a JSON object");
    JsonNode version = v.get("schemaVersion");
    if (version == null || !version.isNumber() || version.doubleValue() != 1d) return bad("unsupported schemaVersion " + version + " (expected 1)");
    String eventId = text(v, "eventId");
    if (eventId == null || eventId.isEmpty()) return bad("eventId missing");
    JsonNode time = v.get("eventTime");
    if (time == null || !time.isNumber() || !isSafeInteger(time.doubleValue()) || time.doubleValue() < 0) return bad("eventTime " + time + " is not epoch milliseconds");
    String type = text(v, "eventType");
    int typeIndex = type == null ? -1 : TYPES.indexOf(type);
    if (typeIndex < 0) return bad("eventType " + v.get("eventType") + " is not one of " + String.join(", ", TYPES));
    String productId = text(v, "productId");
    if (productId == null || productId.isEmpty()) return bad("productId missing");
    JsonNode price = v.get("price");
    if (price == null || !price.isNumber() || !Double.isFinite(price.doubleValue()) || price.doubleValue() < 0) return bad("price " + price + " is not a non-negative number");
    JsonNode quantity = v.get("quantity");
    if (quantity == null || !quantity.isNumber() || !Double.isFinite(quantity.doubleValue()) || quantity.doubleValue() <= 0) return bad("quantity " + quantity + " is not a positive number");
    for (String field : new String[] {"categoryId", "categoryCode", "brand", "userId", "sessionId", "country"}) {
      JsonNode f = v.get(field);
      if (f == null || !(f.isNull() || f.isTextual())) return bad(field + " is neither a string nor null");
    }
    if (text(v, "source") == null) return bad("source missing");
    double p = price.doubleValue();
    double q = quantity.doubleValue();
    // Math.round as JavaScript's: floor(x + 0.5) for the non-negative values here.
    long revenue = typeIndex == PURCHASE ? Math.round(p * q * 1e6) : 0;
    Event event = new Event(eventId, (long) time.doubleValue(), typeIndex, productId, topLevelCategory(text(v, "categoryCode")),
        normaliseBrand(text(v, "brand")), revenue, Math.round(p * 1e6), text(v, "userId"), text(v, "sessionId"));
    return new Check(event, null);
  }

  String groupKey(String kind) {
    return switch (kind) {
      case "overall" -> "overall";
      case "category" -> "category:" + topCategory;
      default -> "brand:" + brand;
    };
  }

  /** The enriched event's JSON, field for field as the consumer writes it into a late record. */
  void write(JsonGenerator g) throws IOException {
    g.writeStartObject();
    g.writeStringField("eventId", eventId);
    g.writeNumberField("eventTime", eventTime);
    g.writeStringField("eventType", TYPES.get(eventType));
    g.writeStringField("productId", productId);
    g.writeStringField("topCategory", topCategory);
    g.writeStringField("brand", brand);
    g.writeNumberField("revenueMicros", revenueMicros);
    g.writeNumberField("priceMicros", priceMicros);
    g.writeStringField("userId", userId);
    g.writeStringField("sessionId", sessionId);
    g.writeEndObject();
  }

  private static Check bad(String reason) {
    return new Check(null, reason);
  }

  private static String text(JsonNode v, String field) {
    JsonNode f = v.get(field);
    return f != null && f.isTextual() ? f.textValue() : null;
  }

  private static boolean isSafeInteger(double d) {
    return d == Math.rint(d) && Math.abs(d) <= MAX_SAFE_INTEGER;
  }

  static String topLevelCategory(String categoryCode) {
    if (categoryCode == null) return "unknown";
    int dot = categoryCode.indexOf('.');
    String top = (dot < 0 ? categoryCode : categoryCode.substring(0, dot)).strip().toLowerCase(Locale.ROOT);
    return top.isEmpty() ? "unknown" : top;
  }

  static String normaliseBrand(String brand) {
    if (brand == null) return "unknown";
    String value = brand.strip().toLowerCase(Locale.ROOT);
    return value.isEmpty() ? "unknown" : value;
  }
}
