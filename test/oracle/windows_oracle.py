#!/usr/bin/env python3
"""The end-to-end oracle: the pipeline's windows computed from the CSV alone, in SQL (SQLite), by a
program that shares no code, no language and no library with the producer or the consumer.

It implements the semantics docs/consumer.md and docs/producer.md document, from their definitions:
  * a REES46 row is rejected when it has the wrong column count, a bad or missing time, an unknown
    event type, a missing product id, or a price that is not a non-negative number;
  * a row's raw-topic partition is Kafka's default: murmur2(key) made positive, modulo the partition
    count; the key is user_session, else user_id, else product_id;
  * each raw partition's stream time is the largest event time read from it so far, in file order;
  * windows are [start, end); tumbling starts are multiples of the size, sliding (hopping) starts are
    multiples of the advance; a record is late for a window when end + grace <= its partition's
    stream time (including itself), and is then counted and routed, not aggregated;
  * once every partition is idle, a window is final when end + grace <= the largest stream time;
  * with "endOfInput" (the producer read its file to the end and said so on every partition), every
    other window is final too, marked "endOfInput": true;
  * a window's late count is the number of records late for its kind and key found at a stream time
    before its close (end + grace).

Usage: windows_oracle.py '<json settings>' < data.csv > result.json
settings: {"partitions": 3, "tumblingMs": .., "slidingMs": .., "advanceMs": .., "graceMs": .., "topN": ..,
           "groupBy": ["category", "overall"], "endOfInput": false}
"""
import csv
import json
import re
import sqlite3
import sys
from datetime import datetime, timezone

TYPES = ["view", "cart", "remove_from_cart", "purchase", "refund"]
ROW_TYPES = {"view", "cart", "remove_from_cart", "purchase"}
TIME = re.compile(r"^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?: UTC)?$")
NUMBER = re.compile(r"^\s*[0-9]+(\.[0-9]+)?\s*$")


def murmur2(data: bytes) -> int:
    """Kafka's Utils.murmur2 (seed 0x9747b28c), as a signed 32-bit int."""
    m, r = 0x5BD1E995, 24
    length = len(data)
    h = (0x9747B28C ^ length) & 0xFFFFFFFF
    for i in range(0, length - length % 4, 4):
        k = data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24)
        k = (k * m) & 0xFFFFFFFF
        k ^= k >> r
        k = (k * m) & 0xFFFFFFFF
        h = (h * m) & 0xFFFFFFFF
        h ^= k
    rest = length % 4
    tail = length - rest
    if rest == 3:
        h ^= data[tail + 2] << 16
    if rest >= 2:
        h ^= data[tail + 1] << 8
    if rest >= 1:
        h ^= data[tail]
        h = (h * m) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * m) & 0xFFFFFFFF
    h ^= h >> 15
    return h - (1 << 32) if h & 0x80000000 else h


def partition_of(key: str, partitions: int) -> int:
    return (murmur2(key.encode("utf-8")) & 0x7FFFFFFF) % partitions


def parse_row(cells):
    """(event dict, None) or (None, reason)."""
    if len(cells) != 9:
        return None, "column_count"
    event_time, event_type, product_id, category_id, category_code, brand, price, user_id, session = [c.strip() for c in cells]
    match = TIME.match(event_time)
    if not match:
        return None, "bad_time" if event_time else "missing_field"
    try:
        t = datetime(*map(int, match.groups()), tzinfo=timezone.utc)
    except ValueError:
        return None, "bad_time"
    if not event_type or not product_id or price == "":
        return None, "missing_field"
    if event_type not in ROW_TYPES:
        return None, "unknown_event_type"
    if price.startswith("-"):
        return None, "negative_price"
    if not NUMBER.match(price):
        return None, "bad_number"
    top = category_code.split(".")[0].strip().lower() if category_code else ""
    return {
        "t": int(t.timestamp() * 1000),
        "type": event_type,
        "product": product_id,
        "category": top or "unknown",
        "brand": brand.strip().lower() or "unknown",
        "price_micros": round(float(price) * 1e6),
        "user": user_id or None,
        "session": session or None,
        "key": session or user_id or product_id,
    }, None


def windows_containing(t, size, advance):
    latest = t - t % advance
    start = latest
    out = []
    while start > t - size and start >= 0:
        out.append((start, start + size))
        start -= advance
    return out


def main():
    settings = json.loads(sys.argv[1])
    partitions = settings["partitions"]
    grace = settings["graceMs"]
    specs = {"tumbling": (settings["tumblingMs"], settings["tumblingMs"]), "sliding": (settings["slidingMs"], settings["advanceMs"])}
    group_by = settings["groupBy"]

    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE assigned (kind TEXT, gkey TEXT, start INTEGER, end_ INTEGER, type TEXT, product TEXT, "
               "user TEXT, session TEXT, price_micros INTEGER)")
    db.execute("CREATE TABLE late (kind TEXT, gkey TEXT, stream_time INTEGER)")

    reader = csv.reader(sys.stdin)
    next(reader)
    rows, rejected, by_reason = 0, 0, {}
    stream = [-1] * partitions
    batch, late_batch = [], []
    for cells in reader:
        rows += 1
        event, reason = parse_row(cells)
        if event is None:
            rejected += 1
            by_reason[reason] = by_reason.get(reason, 0) + 1
            continue
        p = partition_of(event["key"], partitions)
        stream[p] = max(stream[p], event["t"])
        keys = [("overall" if kind == "overall" else f"{kind}:{event[kind]}") for kind in group_by]
        for kind, (size, advance) in specs.items():
            missed = False
            for start, end in windows_containing(event["t"], size, advance):
                if end + grace <= stream[p]:
                    missed = True
                    continue
                for gkey in keys:
                    batch.append((kind, gkey, start, end, event["type"], event["product"], event["user"], event["session"], event["price_micros"]))
            if missed:
                for gkey in keys:
                    late_batch.append((kind, gkey, stream[p]))
        if len(batch) > 50000:
            db.executemany("INSERT INTO assigned VALUES (?,?,?,?,?,?,?,?,?)", batch)
            batch = []
    db.executemany("INSERT INTO assigned VALUES (?,?,?,?,?,?,?,?,?)", batch)
    db.executemany("INSERT INTO late VALUES (?,?,?)", late_batch)
    watermark = max(stream)
    ended = bool(settings.get("endOfInput", False))

    type_columns = ", ".join(f"SUM(type = '{t}') AS n_{t}" for t in TYPES)
    windows = db.execute(f"""
        SELECT kind, gkey, start, end_, COUNT(*) AS events, {type_columns},
               SUM(CASE WHEN type = 'purchase' THEN price_micros ELSE 0 END) AS revenue_micros,
               COUNT(DISTINCT user) AS users, COUNT(DISTINCT session) AS sessions,
               (SELECT COUNT(*) FROM late l WHERE l.kind = a.kind AND l.gkey = a.gkey AND l.stream_time < a.end_ + :grace) AS late
        FROM assigned a
        WHERE end_ + :grace <= :watermark OR :ended
        GROUP BY kind, gkey, start, end_
        ORDER BY kind, gkey, start""", {"grace": grace, "watermark": watermark, "ended": ended}).fetchall()
    top = {}
    for kind, gkey, start, product, revenue, purchases in db.execute("""
        SELECT kind, gkey, start, product, revenue, purchases FROM (
          SELECT kind, gkey, start, product, SUM(price_micros) AS revenue, COUNT(*) AS purchases,
                 ROW_NUMBER() OVER (PARTITION BY kind, gkey, start ORDER BY SUM(price_micros) DESC, product ASC) AS rank
          FROM assigned WHERE type = 'purchase' GROUP BY kind, gkey, start, product)
        WHERE rank <= :n ORDER BY kind, gkey, start, rank""", {"n": settings["topN"]}):
        top.setdefault((kind, gkey, start), []).append({"productId": product, "revenue": revenue / 1e6, "purchases": purchases})

    results = []
    for row in windows:
        kind, gkey, start, end, events = row[:5]
        counts = dict(zip(TYPES, row[5:10]))
        revenue_micros, users, sessions, late = row[10:14]
        purchases, views = counts["purchase"], counts["view"]
        result = {
            "windowKind": kind, "key": gkey, "windowStartMs": start, "windowEndMs": end, "events": events,
            "eventsByType": counts, "purchases": purchases, "revenue": revenue_micros / 1e6,
            "averagePurchasePrice": None if purchases == 0 else round(revenue_micros / purchases) / 1e6,
            "distinctUsers": users, "distinctSessions": sessions,
            "viewToPurchaseConversion": None if views == 0 else purchases / views,
            "topProducts": top.get((kind, gkey, start), []), "lateRecords": late,
        }
        if end + grace > watermark:
            result["endOfInput"] = True
        results.append(result)
    json.dump({"rows": rows, "rejected": rejected, "rejectedByReason": by_reason, "lateRecords": len(late_batch),
               "watermark": watermark, "windows": results}, sys.stdout)


if __name__ == "__main__":
    main()
