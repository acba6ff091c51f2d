// The window stage's pure core, one instance per repartition partition: aggregates keyed events
// into tumbling and hopping event-time windows, closes windows when every raw partition's stream
// time has passed end + grace, and records its state as changelog entries. No I/O, no clock.
//
// Determinism: stage 1 decides lateness per raw partition from that partition's own (ordered)
// stream time and stamps it on each record; a window closes at the minimum over raw partitions of
// the stream times their watermarks announced (an event record never moves it: see onEvent).
// So whatever order the raw partitions interleave in here, the same records land in the same
// windows, and a window never closes before every record that belongs in it has arrived.
//
// End of input: once every raw partition has ended (the producer's end-of-input markers, after
// its last events), every window still open closes, marked `endOfInput`. Each kind then counts as
// closed through the last window holding the largest stream time E: an event arriving later (the
// producer resumed a longer file, or a new one) that belongs to a window at or before E is late,
// never added to a window already emitted; later windows open and close as usual.
//
// Hopping windows aggregate by pane, not by window. An event enters a contiguous run of the windows
// containing it: every one from the first whose end + grace is still ahead of its stream time
// (`first`) to the last one starting at or before its time (`last`). It is added once, to the
// aggregate of the pane (last, first), instead of to each of those size/advance windows, and a window
// starting at s is the sum of the panes with first ≤ s ≤ last when it closes (counters added, id
// sets united). With the defaults that is 2 aggregate updates per event and group key instead of 6,
// and each event's share of the changelog written once instead of once per window.
import type { KeyedEventRecord, WatermarkRecord } from './repartition-records';
import { addAggregate, addIdLists, addToAggregate, emptyAggregate, resultKey, toResult, type IdSets, type WindowAggregate, type WindowResult } from './window-aggregate';
import { closeTime, oldestStartContaining, windowKinds, type WindowKind, type WindowSpec } from './windows';
import type { EnrichedEvent } from './enrich';

export interface EngineSpec {
  windows: WindowSpec[];
  graceMs: number;
  topN: number;
}

export interface LateRecord {
  kind: WindowKind;
  key: string;
  /** The raw partition's stream time when the record was found late. */
  streamTime: number;
  missedWindows: { start: number; end: number }[];
  event: EnrichedEvent;
}

export interface Emission {
  results: { key: string; result: WindowResult }[];
  late: LateRecord[];
}

export interface ChangelogEntry {
  key: string;
  /** null is a tombstone: the window closed. */
  value: string | null;
}

interface OpenWindow {
  /** resultKey(kind, key, start) */
  id: string;
  agg: WindowAggregate;
  /**
   * The ids in agg. A hopping window's agg is empty but for what a changelog written before panes
   * held for it (counted with its panes, tombstoned with it): its events are in its panes.
   */
  seen: IdSets['seen'];
  /** Id parts written to the changelog so far (`p|<n>|<window id>`, n from 0). */
  parts: number;
  /** How many of agg.users / agg.sessions those parts hold. */
  flushedUsers: number;
  flushedSessions: number;
}

/**
 * The ids of the events of one kind and group key whose run of windows was first … last (window
 * starts): counted in every window of that run. In the changelog as parts, `i|<n>|<pane id>`.
 */
interface Pane {
  /** `<last>|<first>|<kind>|<key>` */
  id: string;
  first: number;
  /** The pane's events as one aggregate (its start and end are those of the window `last`). */
  agg: WindowAggregate;
  seen: IdSets['seen'];
  /** Id parts written so far, as a window's (`i|<n>|<pane id>`); its counters go under `j|<pane id>`. */
  parts: number;
  /** Its counters are in the changelog: dropping it tombstones them. */
  written: boolean;
  flushedUsers: number;
  flushedSessions: number;
}

/** A window's counters in the changelog: its aggregate without the id sets, which are written in parts. */
type WindowCounters = Omit<WindowAggregate, 'users' | 'sessions'> & { parts: number };

/** A changelog part: the ids a window gained since its previous part. */
interface IdPart {
  users: string[];
  sessions: string[];
}

/**
 * Late records per window kind and group key, as the stream times they were found late at. A
 * window's "late records so far" counts those found late before stream time reached its close:
 * the same number whatever the interleaving. Entries below every open window's close fold into base.
 */
interface LateTrack {
  base: number;
  pending: number[];
}

interface SourceState {
  streamTime: number;
  idle: boolean;
  ended?: boolean;
}

const META = 'meta';

export class WindowEngine {
  private readonly windows = new Map<string, OpenWindow>();
  /** The same windows by `<kind>|<key>`, then start: the event path finds its windows without building ids. */
  private readonly byKindKey = new Map<string, Map<number, OpenWindow>>();
  /** Open windows changed since the last changes(). */
  private readonly dirtyWindows = new Set<OpenWindow>();
  private readonly lateTracks = new Map<string, LateTrack>();
  private readonly sources = new Map<number, SourceState>();
  private sourceCount = 0;
  /** Every window with close time ≤ this has been emitted; -1 before the first close. */
  private closedThrough = -1;
  /** Per kind, every window with close time ≤ this was emitted at an end of input. */
  private endedThrough: Partial<Record<WindowKind, number>> = {};
  private readonly dirty = new Set<string>();
  /** Windows closed since the last changes(), with how many id parts each has in the changelog to delete. */
  private readonly closedParts = new Map<string, number>();
  private readonly kindKeys = new Map<string, string[]>();
  /** Hopping windows' ids: by `<kind>|<key>`, then last, then first. */
  private readonly panes = new Map<string, Map<number, Map<number, Pane>>>();
  private readonly dirtyPanes = new Set<Pane>();
  /** Panes dropped since the last changes(), with how many parts each has in the changelog to delete. */
  private readonly droppedPanes = new Map<string, number>();

  constructor(private readonly spec: EngineSpec) {}

  onEvent(record: KeyedEventRecord): Emission {
    // An event makes its raw partition active again, but only a watermark moves its stream time
    // here: stage 1 writes a batch's events grouped by key (event packs), so a partition's events
    // reach a window task in stream-time order per key only. The watermark after the batch is the
    // partition's promise that nothing before it is still to come.
    this.noteSource(record.source, -1, false, false);
    const late: LateRecord[] = [];
    const t = record.event.eventTime;
    const kindKeys = this.kindKeysOf(record.key);
    for (let k = 0; k < this.spec.windows.length; k++) {
      const spec = this.spec.windows[k]!;
      const closedAt = Math.max(record.streamTime, this.closedThrough, this.endedThrough[spec.kind] ?? -1);
      let missed: { start: number; end: number }[] | undefined;
      const hopping = isHopping(spec);
      let first = -1;
      let last = -1;
      // Every window containing t, oldest first, without building a list: this runs per event and window.
      for (let start = oldestStartContaining(spec, t); start <= t; start += spec.advanceMs) {
        const end = start + spec.sizeMs;
        if (end + this.spec.graceMs <= closedAt) {
          (missed ??= []).push({ start, end });
        } else {
          if (!hopping) this.addTo(kindKeys[k]!, spec.kind, record.key, start, end, record.event);
          if (first < 0) first = start;
          last = start;
        }
      }
      if (first >= 0 && hopping) {
        const pane = this.paneOf(kindKeys[k]!, spec, record.key, last, first);
        addToAggregate(pane.agg, record.event, pane.seen);
      }
      if (missed) {
        late.push({ kind: spec.kind, key: record.key, streamTime: record.streamTime, missedWindows: missed, event: record.event });
        this.trackLate(spec.kind, record.key, record.streamTime);
      }
    }
    return { results: [], late };
  }

  onWatermark(record: WatermarkRecord): Emission {
    this.sourceCount = Math.max(this.sourceCount, record.sources);
    this.noteSource(record.source, record.streamTime, record.idle, record.ended === true);
    this.dirty.add(META);
    const watermark = this.watermark();
    const results: Emission['results'] = [];
    if (watermark !== undefined && watermark > this.closedThrough) {
      this.closedThrough = watermark;
      results.push(...this.closeThrough(watermark));
      this.foldLate(watermark);
    }
    if (this.allEnded()) results.push(...this.closeAtEndOfInput());
    return { results, late: [] };
  }

  /** `<kind>|<key>` for each window spec, built once per group key rather than per event. */
  private kindKeysOf(key: string): string[] {
    let kindKeys = this.kindKeys.get(key);
    if (!kindKeys) {
      kindKeys = this.spec.windows.map((spec) => `${spec.kind}|${key}`);
      // Group keys are few (categories, brands); a bound all the same.
      if (this.kindKeys.size >= 100_000) this.kindKeys.clear();
      this.kindKeys.set(key, kindKeys);
    }
    return kindKeys;
  }

  openWindows(kind: WindowKind): number {
    let count = 0;
    for (const w of this.windows.values()) if (w.agg.kind === kind) count += 1;
    return count;
  }

  /**
   * Changelog entries for everything changed since the last call. A window's id sets grow with every
   * batch, so they are not re-sent whole each time: its counters go under `w|<id>` and the ids it
   * gained since its last part under `p|<n>|<id>`; a closed window tombstones all of them.
   */
  changes(): ChangelogEntry[] {
    const entries: ChangelogEntry[] = [];
    for (const open of this.dirtyWindows) this.windowChanges(open, entries);
    for (const pane of this.dirtyPanes) this.paneChanges(pane, entries);
    for (const [id, parts] of this.closedParts) {
      entries.push({ key: `w|${id}`, value: null });
      for (let n = 0; n < parts; n++) entries.push({ key: partKey(n, id), value: null });
    }
    for (const [id, parts] of this.droppedPanes) {
      entries.push({ key: `j|${id}`, value: null });
      for (let n = 0; n < parts; n++) entries.push({ key: panePartKey(n, id), value: null });
    }
    for (const key of this.dirty) entries.push({ key, value: this.serialise(key) });
    this.dirty.clear();
    this.dirtyWindows.clear();
    this.closedParts.clear();
    this.dirtyPanes.clear();
    this.droppedPanes.clear();
    return entries;
  }

  /** Rebuilds an engine from the latest changelog value of every key (tombstoned keys absent). */
  static restore(spec: EngineSpec, entries: Map<string, string>): WindowEngine {
    const engine = new WindowEngine(spec);
    const parts: [string, string, number, string][] = [];
    const paneParts: [string, PaneKey, number, string][] = [];
    for (const [key, value] of entries) {
      const part = parsePartKey(key);
      const panePart = part ? undefined : parsePanePartKey(key);
      if (part) parts.push([key, part.id, part.n, value]);
      else if (panePart) paneParts.push([key, panePart, panePart.n, value]);
      else if (key.startsWith('j|')) restoring(key, () => engine.loadPaneCounters(key.slice(2), value));
      else restoring(key, () => engine.load(key, value));
    }
    parts.sort(([, , a], [, , b]) => a - b);
    for (const [key, id, , value] of parts) restoring(key, () => engine.loadPart(id, value));
    paneParts.sort(([, , a], [, , b]) => a - b);
    for (const [key, pane, , value] of paneParts) restoring(key, () => engine.loadPanePart(pane, value));
    engine.reopenPaneWindows();
    return engine;
  }

  private noteSource(source: number, streamTime: number, idle: boolean, ended: boolean): void {
    const state = this.sources.get(source);
    // The common case (every event of an active partition): nothing changes.
    if (state && state.streamTime >= streamTime && state.idle === idle && (state.ended === true) === ended) return;
    this.sources.set(source, { streamTime: Math.max(state?.streamTime ?? -1, streamTime), idle, ...(ended ? { ended } : {}) });
    if (!state || state.idle !== idle || (state.ended === true) !== ended || state.streamTime < streamTime) this.dirty.add(META);
  }

  /** Every raw partition has been heard from and has ended. */
  private allEnded(): boolean {
    if (this.sourceCount === 0) return false;
    for (let source = 0; source < this.sourceCount; source++) if (this.sources.get(source)?.ended !== true) return false;
    return true;
  }

  /** Closes every open window, marked endOfInput; each kind is then closed through the last window holding the largest stream time. */
  private closeAtEndOfInput(): { key: string; result: WindowResult }[] {
    const last = Math.max(...[...this.sources.values()].map((s) => s.streamTime));
    if (last < 0) return [];
    for (const spec of this.spec.windows) {
      const through = closeTime({ start: last - (last % spec.advanceMs), end: last - (last % spec.advanceMs) + spec.sizeMs }, this.spec.graceMs);
      if (through > (this.endedThrough[spec.kind] ?? -1)) {
        this.endedThrough[spec.kind] = through;
        this.dirty.add(META);
      }
    }
    return this.closeWhere((kind) => this.endedThrough[kind] ?? -1).map((r) => ({ key: r.key, result: { ...r.result, endOfInput: true } }));
  }

  /**
   * The minimum stream time over raw partitions that are not idle; undefined while any partition
   * has not been heard from. When all are idle the stream is quiet, and the maximum closes everything due.
   */
  private watermark(): number | undefined {
    const states: SourceState[] = [];
    for (let source = 0; source < this.sourceCount; source++) {
      const state = this.sources.get(source);
      if (!state) return undefined;
      states.push(state);
    }
    if (states.length === 0) return undefined;
    // An ended partition waits for nothing, like an idle one.
    const active = states.filter((s) => !s.idle && s.ended !== true);
    if (active.length === 0) return Math.max(...states.map((s) => s.streamTime));
    return Math.min(...active.map((s) => s.streamTime));
  }

  /** Adds the event to a window of a kind that is not hopping. */
  private addTo(kindKey: string, kind: WindowKind, key: string, start: number, end: number, event: EnrichedEvent): void {
    const open = this.byKindKey.get(kindKey)?.get(start) ?? this.openWindow(kind, key, start, end);
    addToAggregate(open.agg, event, open.seen);
    this.dirtyWindows.add(open);
  }

  private openWindow(kind: WindowKind, key: string, start: number, end: number): OpenWindow {
    const open: OpenWindow = { id: resultKey(kind, key, start), agg: emptyAggregate(kind, key, start, end), seen: { users: new Set(), sessions: new Set() }, parts: 0, flushedUsers: 0, flushedSessions: 0 };
    this.register(open);
    return open;
  }

  /** The aggregate of the run of windows first … last of one kind and group key; made, with the windows it opens, when first needed. */
  private paneOf(kindKey: string, spec: WindowSpec, key: string, last: number, first: number): Pane {
    const { pane, created } = this.paneAt(kindKey, spec, key, last, first);
    if (created) {
      const byStart = this.byKindKey.get(kindKey);
      for (let start = first; start <= last; start += spec.advanceMs) {
        if (!byStart?.has(start)) this.openWindow(spec.kind, key, start, start + spec.sizeMs);
      }
    }
    this.dirtyPanes.add(pane);
    return pane;
  }

  /** The pane (last, first) of one kind and group key, made empty if there is none. */
  private paneAt(kindKey: string, spec: WindowSpec, key: string, last: number, first: number): { pane: Pane; created: boolean } {
    let byLast = this.panes.get(kindKey);
    if (!byLast) this.panes.set(kindKey, (byLast = new Map<number, Map<number, Pane>>()));
    let byFirst = byLast.get(last);
    if (!byFirst) byLast.set(last, (byFirst = new Map<number, Pane>()));
    const found = byFirst.get(first);
    if (found) return { pane: found, created: false };
    const pane: Pane = {
      id: `${last}|${first}|${kindKey}`, first, agg: emptyAggregate(spec.kind, key, last, last + spec.sizeMs), seen: { users: new Set(), sessions: new Set() },
      parts: 0, flushedUsers: 0, flushedSessions: 0, written: false,
    };
    byFirst.set(first, pane);
    return { pane, created: true };
  }

  /** A hopping window's final aggregate: its own (restored) one and every pane it counts, added up. */
  private sumOf(w: OpenWindow, spec: WindowSpec): WindowAggregate {
    const byLast = this.panes.get(`${w.agg.kind}|${w.agg.key}`);
    const sum = emptyAggregate(w.agg.kind, w.agg.key, w.agg.start, w.agg.end);
    const seen = { users: new Set<string>(), sessions: new Set<string>() };
    addAggregate(sum, seen, w.agg);
    for (let last = w.agg.start; last < w.agg.end; last += spec.advanceMs) {
      for (const pane of byLast?.get(last)?.values() ?? []) {
        if (pane.first <= w.agg.start) addAggregate(sum, seen, pane.agg);
      }
    }
    return sum;
  }

  /** After a restore: every hopping window a pane counts that is still open (not yet due) exists again. */
  private reopenPaneWindows(): void {
    for (const [kindKey, byLast] of this.panes) {
      const kind = kindKey.slice(0, kindKey.indexOf('|')) as WindowKind;
      const spec = this.spec.windows.find((s) => s.kind === kind)!;
      const key = kindKey.slice(kindKey.indexOf('|') + 1);
      const closedAt = Math.max(this.closedThrough, this.endedThrough[kind] ?? -1);
      for (const [last, byFirst] of byLast) {
        for (const first of byFirst.keys()) {
          for (let start = first; start <= last; start += spec.advanceMs) {
            const bounds = { start, end: start + spec.sizeMs };
            if (closeTime(bounds, this.spec.graceMs) > closedAt && !this.byKindKey.get(kindKey)?.has(start)) this.openWindow(kind, key, bounds.start, bounds.end);
          }
        }
      }
    }
  }

  /** Drops the panes whose last window is due: no open window counts them any more. */
  private dropPanes(dueThrough: (kind: WindowKind) => number): void {
    for (const [kindKey, byLast] of this.panes) {
      const kind = kindKey.slice(0, kindKey.indexOf('|')) as WindowKind;
      const spec = this.spec.windows.find((s) => s.kind === kind)!;
      for (const [last, byFirst] of byLast) {
        if (closeTime({ start: last, end: last + spec.sizeMs }, this.spec.graceMs) > dueThrough(kind)) continue;
        for (const pane of byFirst.values()) {
          this.dirtyPanes.delete(pane);
          if (pane.written) this.droppedPanes.set(pane.id, pane.parts);
        }
        byLast.delete(last);
      }
      if (byLast.size === 0) this.panes.delete(kindKey);
    }
  }

  private register(open: OpenWindow): void {
    this.windows.set(open.id, open);
    const kindKey = `${open.agg.kind}|${open.agg.key}`;
    let byStart = this.byKindKey.get(kindKey);
    if (!byStart) this.byKindKey.set(kindKey, (byStart = new Map<number, OpenWindow>()));
    byStart.set(open.agg.start, open);
  }

  private unregister(open: OpenWindow): void {
    this.windows.delete(open.id);
    const kindKey = `${open.agg.kind}|${open.agg.key}`;
    const byStart = this.byKindKey.get(kindKey);
    byStart?.delete(open.agg.start);
    if (byStart?.size === 0) this.byKindKey.delete(kindKey);
    this.dirtyWindows.delete(open);
  }

  private closeThrough(watermark: number): { key: string; result: WindowResult }[] {
    return this.closeWhere(() => watermark);
  }

  /** Closes every window whose close time is at or before dueThrough(its kind), in end order. */
  private closeWhere(dueThrough: (kind: WindowKind) => number): { key: string; result: WindowResult }[] {
    const due = [...this.windows.entries()]
      .filter(([, w]) => closeTime(w.agg, this.spec.graceMs) <= dueThrough(w.agg.kind))
      .sort(([a, wa], [b, wb]) => wa.agg.end - wb.agg.end || (a < b ? -1 : a > b ? 1 : 0));
    const results = due.map(([id, w]) => {
      this.unregister(w);
      this.closedParts.set(id, w.parts);
      const spec = this.spec.windows.find((s) => s.kind === w.agg.kind)!;
      const close = closeTime(w.agg, this.spec.graceMs);
      const agg = isHopping(spec) ? this.sumOf(w, spec) : w.agg;
      return { key: id, result: toResult(agg, spec, this.spec.topN, this.lateBefore(w.agg.kind, w.agg.key, close)) };
    });
    this.dropPanes(dueThrough);
    return results;
  }

  private trackLate(kind: WindowKind, key: string, streamTime: number): void {
    const id = `${kind}|${key}`;
    const track = this.lateTracks.get(id) ?? { base: 0, pending: [] };
    if (streamTime < this.closedThrough) track.base += 1;
    else track.pending.push(streamTime);
    this.lateTracks.set(id, track);
    this.dirty.add(`l|${id}`);
  }

  private lateBefore(kind: WindowKind, key: string, close: number): number {
    const track = this.lateTracks.get(`${kind}|${key}`);
    if (!track) return 0;
    return track.base + track.pending.filter((t) => t < close).length;
  }

  /** Every open or future window closes after the watermark, so late marks before it count for all of them. */
  private foldLate(watermark: number): void {
    for (const [id, track] of this.lateTracks) {
      const keep = track.pending.filter((t) => t >= watermark);
      if (keep.length === track.pending.length) continue;
      track.base += track.pending.length - keep.length;
      track.pending = keep;
      this.dirty.add(`l|${id}`);
    }
  }

  private serialise(key: string): string | null {
    if (key === META) {
      return JSON.stringify({ sourceCount: this.sourceCount, closedThrough: this.closedThrough, endedThrough: this.endedThrough, sources: [...this.sources.entries()] });
    }
    const track = this.lateTracks.get(key.slice(2));
    return track ? JSON.stringify(track) : null;
  }

  private windowChanges(open: OpenWindow, entries: ChangelogEntry[]): void {
    const id = open.id;
    const { users, sessions, ...rest } = open.agg;
    if (users.length > open.flushedUsers || sessions.length > open.flushedSessions) {
      const part: IdPart = { users: users.slice(open.flushedUsers), sessions: sessions.slice(open.flushedSessions) };
      entries.push({ key: partKey(open.parts, id), value: JSON.stringify(part) });
      open.parts += 1;
      open.flushedUsers = users.length;
      open.flushedSessions = sessions.length;
    }
    const counters: WindowCounters = { ...rest, parts: open.parts };
    entries.push({ key: `w|${id}`, value: JSON.stringify(counters) });
  }

  /** A changed pane: its counters, and its new ids since its last part as its next part. */
  private paneChanges(pane: Pane, entries: ChangelogEntry[]): void {
    const { users, sessions, ...counters } = pane.agg;
    if (users.length > pane.flushedUsers || sessions.length > pane.flushedSessions) {
      const part: IdPart = { users: users.slice(pane.flushedUsers), sessions: sessions.slice(pane.flushedSessions) };
      entries.push({ key: panePartKey(pane.parts, pane.id), value: JSON.stringify(part) });
      pane.parts += 1;
      pane.flushedUsers = users.length;
      pane.flushedSessions = sessions.length;
    }
    entries.push({ key: `j|${pane.id}`, value: JSON.stringify(counters) });
    pane.written = true;
  }

  /** A pane from the changelog: restored without opening windows (reopenPaneWindows does, knowing what closed). */
  private restoredPane(id: string): Pane | undefined {
    const key = parsePaneId(id);
    if (!key) return undefined;
    const spec = this.spec.windows.find((s) => s.kind === key.kind);
    if (!spec) return undefined;
    const { pane } = this.paneAt(`${key.kind}|${key.key}`, spec, key.key, key.last, key.first);
    pane.written = true;
    return pane;
  }

  private loadPaneCounters(id: string, value: string): void {
    const pane = this.restoredPane(id);
    if (!pane) return;
    const { users, sessions } = pane.agg;
    pane.agg = { ...(JSON.parse(value) as Omit<WindowAggregate, 'users' | 'sessions'>), users, sessions };
  }

  /** A pane's id part, in part order. */
  private loadPanePart(key: PaneKey, value: string): void {
    const pane = this.restoredPane(key.id);
    if (!pane) return;
    addIdLists(pane.agg, pane.seen, JSON.parse(value) as IdPart);
    pane.parts = Math.max(pane.parts, key.n + 1);
    pane.flushedUsers = pane.agg.users.length;
    pane.flushedSessions = pane.agg.sessions.length;
  }

  private load(key: string, value: string): void {
    if (key === META) {
      const meta = JSON.parse(value) as { sourceCount: number; closedThrough: number; endedThrough?: Partial<Record<WindowKind, number>>; sources: [number, SourceState][] };
      this.sourceCount = meta.sourceCount;
      this.closedThrough = meta.closedThrough;
      this.endedThrough = meta.endedThrough ?? {};
      for (const [source, state] of meta.sources) this.sources.set(source, state);
    } else if (key.startsWith('w|')) {
      const saved = JSON.parse(value) as WindowCounters | WindowAggregate;
      if ('parts' in saved) {
        const { parts, ...rest } = saved;
        const agg: WindowAggregate = { ...rest, users: [], sessions: [] };
        this.register({ id: key.slice(2), agg, seen: { users: new Set(), sessions: new Set() }, parts, flushedUsers: 0, flushedSessions: 0 });
      } else {
        // Written whole, ids included, by an earlier version: its ids go out as part 0 with the window's next change.
        this.register({ id: key.slice(2), agg: saved, seen: { users: new Set(saved.users), sessions: new Set(saved.sessions) }, parts: 0, flushedUsers: 0, flushedSessions: 0 });
      }
    } else if (key.startsWith('l|')) {
      this.lateTracks.set(key.slice(2), JSON.parse(value) as LateTrack);
    }
  }

  /** A window's id part, in part order; a part of a window without counters (closed) is left out. */
  private loadPart(id: string, value: string): void {
    const open = this.windows.get(id);
    if (!open) return;
    addIdLists(open.agg, open.seen, JSON.parse(value) as IdPart);
    open.flushedUsers = open.agg.users.length;
    open.flushedSessions = open.agg.sessions.length;
  }
}

/** Loads one changelog entry; a value that cannot be read is an error naming its key (the state is not guessed at). */
function restoring(key: string, load: () => void): void {
  try {
    load();
  } catch (error) {
    throw new Error(`window state: changelog entry ${JSON.stringify(key)} cannot be restored: ${(error as Error).message}`, { cause: error });
  }
}

function partKey(n: number, id: string): string {
  return `p|${n}|${id}`;
}

/** Windows of more than one advance (hopping): their ids are kept by pane. */
function isHopping(spec: WindowSpec): boolean {
  return spec.advanceMs < spec.sizeMs;
}

interface PaneKey {
  id: string;
  n: number;
  last: number;
  first: number;
  kind: WindowKind;
  key: string;
}

function panePartKey(n: number, paneId: string): string {
  return `i|${n}|${paneId}`;
}

/** `i|<n>|<pane id>` (the group key may hold bars: it is the rest). */
function parsePanePartKey(key: string): PaneKey | undefined {
  if (!key.startsWith('i|')) return undefined;
  const bar = key.indexOf('|', 2);
  const n = Number(key.slice(2, bar));
  const pane = bar > 2 && Number.isSafeInteger(n) ? parsePaneId(key.slice(bar + 1)) : undefined;
  return pane && { ...pane, n };
}

/** `<last>|<first>|<kind>|<key>` */
function parsePaneId(id: string): Omit<PaneKey, 'n'> | undefined {
  const fields = id.split('|');
  const [last, first] = fields.slice(0, 2).map(Number);
  const kind = windowKinds.find((k) => k === fields[2]);
  if (fields.length < 4 || !kind || ![last, first].every(Number.isSafeInteger)) return undefined;
  return { id, last: last!, first: first!, kind, key: fields.slice(3).join('|') };
}

function parsePartKey(key: string): { n: number; id: string } | undefined {
  if (!key.startsWith('p|')) return undefined;
  const bar = key.indexOf('|', 2);
  const n = Number(key.slice(2, bar));
  return bar > 2 && Number.isSafeInteger(n) ? { n, id: key.slice(bar + 1) } : undefined;
}
