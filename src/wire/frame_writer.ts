/**
 * Writes envelopes to a byte sink as frames, coalescing every frame queued
 * while a write is in flight into one write (DESIGN.md §7), with bounded
 * buffering.
 *
 * @module
 */
import type { Envelope, Serializer } from "../codec/envelope.ts";
import type { FrameCodec } from "../codec/types.ts";
import type { Fragmenter } from "../fragment/fragmenter.ts";
import type { FragmentMeta } from "../fragment/types.ts";
import { LoopBudget, nextTurn, stillInTurn, watchTurns } from "../_internal/fairness.ts";
import { Slab } from "../_internal/slab.ts";
import type { WaterMarks } from "../_internal/water_marks.ts";
import { DrainWatchdog } from "./drain_watchdog.ts";
import { DrainTimeoutError } from "./errors.ts";
import { writeChunks } from "../_internal/chunk_pool.ts";
import { emptied } from "../_internal/emptied.ts";
import type { ByteWriter } from "../transport/_byte_io.ts";

/** A message body that fits one fragment, queued to be written with its header in place. */
class SingleFragment {
  readonly body: Uint8Array;
  readonly meta: FragmentMeta;
  readonly headerLen: number;

  // Fields, not parameter properties: Node.js strips types only.
  constructor(body: Uint8Array, meta: FragmentMeta, headerLen: number) {
    this.body = body;
    this.meta = meta;
    this.headerLen = headerLen;
  }
}

/** A batch from this size on is written from a pooled buffer (see #flushLoop). */
const POOL_FROM_BYTES = 4 * 1024;

/**
 * Where a smaller batch is carved from, over a transport that lets go of
 * written chunks: one buffer for the whole process, a view per batch. A
 * batch allocated to size costs a backing store each (~0.2 µs for 100 bytes
 * on Deno, ~1 µs for 4 KiB, and their share of the GC); a carved one a few
 * ns. Regions are never reused, so nothing is ever zeroed or overwritten; a
 * slab lives on while a write from it is in flight (at most its 16 KiB for a
 * stalled one), and an idle connection holds none.
 */
const smallBatches = new Slab(16 * 1024);

/** Writes in a row without a quiet turn before a small batch waits for more (see #flushLoop). */
const COALESCE_AFTER_WRITES = 4;

/** A batch smaller than this, in a run of writes, waits one event-loop turn for more (see #flushLoop). */
const COALESCE_BYTES = 16 * 1024;

/** Slabs message bodies are encoded into when fragmenting; a larger body gets a slab of its own. */
const BODY_SLAB_SIZE = 64 * 1024;

/** Bytes queued before `send()` makes its caller wait. */
export const DEFAULT_WRITE_HIGH_WATER_MARK = 64 * 1024;

/** What a {@link FrameWriter} writes to, and how. */
export interface FrameWriterOptions {
  /** The byte sink (a connection's writable side); the writer holds its lock. */
  readonly writer: ByteWriter;
  /** Frames each message body. */
  readonly codec: FrameCodec;
  /** Turns envelopes into message bodies. */
  readonly serializer: Serializer;
  /** Splits bodies into fragments, when the protocol fragments messages. */
  readonly fragmenter?: Fragmenter | undefined;
  /** Bytes queued before `send()` makes its caller wait; default 64 KiB. */
  readonly highWaterMark?: number | undefined;
  /**
   * The connection's outbound byte count, which the writer adds the bytes it
   * holds to (queued and in flight), beside the push queues' (the
   * slow-consumer guard). Without it, only `highWaterMark` bounds the writer.
   */
  readonly marks?: WaterMarks | undefined;
  /**
   * Close the connection when one write has not completed for this many ms
   * (the peer takes no bytes while output is pending), at the latest 1.25 ×
   * it after the write began; 0 or absent: never. Needs `transport`.
   */
  readonly drainTimeoutMs?: number | undefined;
  /**
   * What a drain timeout closes: the connection the sink belongs to. (An
   * `abort()` of the sink would wait for the write in flight, which never
   * ends.)
   */
  readonly transport?: {
    close(): void;
    /** See `Connection.releasesWrittenChunks`: then batches are written from pooled buffers. */
    readonly releasesWrittenChunks?: boolean | undefined;
  } | undefined;
  /** The connection's id, for the {@link DrainTimeoutError}. */
  readonly connectionId?: number | undefined;
  /** Counts the frames and bytes written (the server's counters), if given. */
  readonly counters?: { framesSent: number; bytesSent: number } | undefined;
}

/**
 * Envelopes in, coalesced framed bytes out. At most one write is in flight;
 * at most `highWaterMark` bytes (plus one frame) wait behind it, so a slow
 * socket stops the producer instead of growing memory.
 *
 * When both the serializer and the codec offer the in-place fast path
 * (`encodedLength`/`encodeInto`, `headerLength`/`encodeHeaderInto`), a batch
 * costs one allocation however many frames it holds.
 *
 * Fairness: `send()` also makes its caller wait, for one turn of the event
 * loop, after each slice of frames or bytes (`LoopBudget`), so a producer on
 * a socket that accepts every byte at once cannot starve other connections.
 *
 * Drain timeout: with `drainTimeoutMs`, a write that has not completed after
 * that long fails the writer with a {@link DrainTimeoutError} and closes the
 * transport, between `drainTimeoutMs` and 1.25 × it after the write began.
 * The writers of one drain timeout share one timer (a {@link DrainWatchdog}),
 * which a writer joins at the first write after an idle spell (one clock
 * read) and which checks four times per period which write is in flight, so
 * a write costs a counter bump, no clock read (~0.1 µs on Deno) and no timer
 * of its own (~2.6 µs on Deno to arm and clear); the writer leaves it at the
 * first check that finds no write in flight, so an idle connection holds none.
 */
export class FrameWriter {
  readonly #writer: ByteWriter;
  readonly #codec: FrameCodec;
  readonly #serializer: Serializer;
  readonly #inPlace: boolean;
  readonly #fragmenter: Fragmenter | undefined;
  readonly #highWaterMark: number;
  /** Envelopes to encode in place, single fragments to frame in place, or encoded bodies. */
  #pending: (Envelope | SingleFragment | Uint8Array)[] = [];
  /** Body size of each pending entry. */
  #bodySizes: number[] = [];
  /**
   * With a fragmenter, per pending entry: the message id of an envelope
   * planned as one fragment, or -1. A number, not an object per message: this
   * is the hot path.
   */
  #fragmentIds: number[] = [];
  /**
   * The three arrays above, emptied, for the next batch: a busy connection
   * swaps the two sets at every write rather than allocate three arrays
   * (and their backing stores, ~0.5 KiB on Deno) per write.
   */
  #sparePending: (Envelope | SingleFragment | Uint8Array)[] = [];
  #spareBodySizes: number[] = [];
  #spareFragmentIds: number[] = [];
  /** Header bytes of a message planned as one fragment (the strategy's fast path). */
  readonly #singleHeaderLength: number;
  #pendingBytes = 0;
  #flushing: Promise<void> | undefined;
  /** The event-loop turn (`watchTurns()`) in which the last write completed. */
  #lastWriteTurn = -1;
  /** Writes in a row with no quiet turn and no input read between them (see #flushLoop). */
  #busyWrites = 0;
  #closing: Promise<void> | undefined;
  /** Where `#encodeBody` puts the bodies the fragmenter splits (only with a fragmenter). */
  readonly #bodies: Slab | undefined;
  #failure: { error: unknown } | undefined;
  #roomWaiters: { resolve: () => void; reject: (error: unknown) => void }[] = [];
  readonly #budget = new LoopBudget();
  readonly #marks: WaterMarks | undefined;
  readonly #drainTimeoutMs: number;
  readonly #transport: { close(): void } | undefined;
  /** Whether batches may be written from a pooled buffer (see `ChunkPool`). */
  readonly #pooled: boolean;
  readonly #connectionId: number;
  readonly #counters: { framesSent: number; bytesSent: number } | undefined;
  /** Bytes of the write in flight; 0 when none is. */
  #inFlightBytes = 0;
  /** Writes started so far, with a drain timeout: which write is in flight. */
  #writesStarted = 0;
  /** The write the drain timer last found in flight (or saw start, when armed)... */
  #watchedWrite = 0;
  /** ...and when it did (`performance.now()`): that write began no later. */
  #watchedSince = 0;
  /** Where the drain checks come from; undefined without a drain timeout. */
  readonly #watchdog: DrainWatchdog | undefined;
  /** True while the watchdog calls #checkDrain. */
  #watched = false;

  constructor(options: FrameWriterOptions) {
    const { writer, codec, serializer, fragmenter } = options;
    this.#writer = writer;
    this.#codec = codec;
    this.#serializer = serializer;
    this.#fragmenter = fragmenter;
    this.#bodies = fragmenter && new Slab(BODY_SLAB_SIZE);
    this.#singleHeaderLength = fragmenter?.strategy.singleFragment?.headerLength ?? 0;
    this.#inPlace = serializer.encodedLength !== undefined &&
      serializer.encodeInto !== undefined && codec.headerLength !== undefined &&
      codec.encodeHeaderInto !== undefined;
    this.#highWaterMark = options.highWaterMark ?? DEFAULT_WRITE_HIGH_WATER_MARK;
    this.#marks = options.marks;
    this.#transport = options.transport;
    this.#pooled = options.transport?.releasesWrittenChunks === true;
    this.#connectionId = options.connectionId ?? 0;
    this.#counters = options.counters;
    this.#drainTimeoutMs = options.transport ? options.drainTimeoutMs ?? 0 : 0;
    this.#watchdog = this.#drainTimeoutMs > 0 ? DrainWatchdog.of(this.#drainTimeoutMs) : undefined;
  }

  /**
   * Queue one envelope. Returns `undefined` when the caller may go on at
   * once, or a promise to await when the queue is full (back-pressure).
   * Throws synchronously if the envelope cannot be encoded (nothing is
   * queued), or the write error once the sink has failed.
   */
  send(envelope: Envelope): Promise<void> | undefined {
    if (this.#failure) throw this.#failure.error;
    const pendingBefore = this.#pendingBytes;
    if (this.#fragmenter !== undefined) {
      this.#queueFragmented(envelope, this.#fragmenter);
    } else if (this.#inPlace) {
      const bodySize = this.#serializer.encodedLength!(envelope);
      this.#queue(envelope, bodySize, this.#codec.headerLength!(bodySize) + bodySize);
    } else {
      const body = this.#serializer.encode(envelope);
      this.#queue(body, body.length, this.#frameSize(body));
    }
    this.#marks?.add(this.#pendingBytes - pendingBefore);
    this.#flushing ??= this.#flushLoop();
    if (this.#pendingBytes >= this.#highWaterMark) {
      return new Promise((resolve, reject) => this.#roomWaiters.push({ resolve, reject }));
    }
    // Whoever produces frames (a response stream, a push loop) does so in
    // slices: the bytes limit alone would let 64 KiB of 4-byte frames (3,000
    // frames of CPU) run before anything else could.
    return this.#budget.spend(this.#pendingBytes - pendingBefore, 1);
  }

  /**
   * Queue one envelope as fragments. Fastest first: a message the strategy can
   * plan as one fragment from its length alone is encoded in place at flush
   * time, like an unfragmented one.
   */
  #queueFragmented(envelope: Envelope, fragmenter: Fragmenter): void {
    // A stateful strategy's headers (a sequence id) are written now, in order.
    if (fragmenter.stateful) {
      const fragments: Uint8Array[] = [];
      fragmenter.split(this.#encodeBody(envelope), (fragment) => void fragments.push(fragment));
      return this.#queueFragments(fragments);
    }
    if (this.#inPlace) {
      const bodySize = this.#serializer.encodedLength!(envelope);
      const msgId = fragmenter.planSingleLength(bodySize);
      if (msgId >= 0) {
        const size = this.#singleHeaderLength + bodySize;
        this.#queue(envelope, size, this.#frameSizeOf(size), msgId);
        return;
      }
    }
    this.#queueMessage(this.#encodeBody(envelope), fragmenter);
  }

  /**
   * Encode a body for the fragmenter, carved out of a slab when the
   * serializer can encode in place (small allocations are costly, ~1 µs on
   * Deno). Slab regions are never reused, so a queued body is never
   * overwritten.
   */
  #encodeBody(envelope: Envelope): Uint8Array {
    const serializer = this.#serializer;
    if (serializer.encodedLength === undefined || serializer.encodeInto === undefined) {
      return serializer.encode(envelope);
    }
    const size = serializer.encodedLength(envelope);
    const body = this.#bodies!.take(size);
    const written = serializer.encodeInto(envelope, body, 0);
    return written === size ? body : body.subarray(0, written);
  }

  /**
   * Queue one message body as fragments. The common case, a body that fits
   * one fragment, is framed in place at flush time (no copy, no allocation);
   * otherwise it is split, and every fragment must fit a frame before any is
   * queued.
   */
  #queueMessage(body: Uint8Array, fragmenter: Fragmenter): void {
    const codec = this.#codec;
    const plan = codec.headerLength && codec.encodeHeaderInto
      ? fragmenter.planSingle(body)
      : undefined;
    if (plan !== undefined) {
      const size = plan.headerLen + body.length;
      const entry = new SingleFragment(body, plan.meta, plan.headerLen);
      this.#queue(entry, size, this.#frameSizeOf(size));
      return;
    }
    const fragments: Uint8Array[] = [];
    fragmenter.split(body, (fragment) => void fragments.push(fragment));
    this.#queueFragments(fragments);
  }

  /** Queue a message's fragments; every one must fit a frame before any is queued. */
  #queueFragments(fragments: readonly Uint8Array[]): void {
    const sizes = fragments.map((fragment) => this.#frameSize(fragment));
    for (let i = 0; i < fragments.length; i++) {
      this.#queue(fragments[i]!, fragments[i]!.length, sizes[i]!);
    }
  }

  /** Framed size of `body`; throws a `CodecError` if it cannot be framed. */
  #frameSize(body: Uint8Array): number {
    return this.#codec.headerLength
      ? this.#frameSizeOf(body.length)
      : this.#codec.encodedLength(body);
  }

  /** Framed size of a body of `bodySize` bytes (codecs with the header fast path). */
  #frameSizeOf(bodySize: number): number {
    return this.#codec.headerLength!(bodySize) + bodySize;
  }

  /** Queue one entry; `msgId` for an envelope planned as one fragment. */
  #queue(
    entry: Envelope | SingleFragment | Uint8Array,
    bodySize: number,
    frameSize: number,
    msgId = -1,
  ): void {
    this.#pending.push(entry);
    this.#bodySizes.push(bodySize);
    if (this.#fragmenter !== undefined) this.#fragmentIds.push(msgId);
    this.#pendingBytes += frameSize;
  }

  /**
   * Whether a write to the sink has failed. From then on `send()` throws that
   * write error; before, a throw from `send()` is the envelope's own fault.
   */
  get failed(): boolean {
    return this.#failure !== undefined;
  }

  /**
   * What the writer failed with, if it did: the sink's write error, an
   * encoding error, or a {@link DrainTimeoutError}. A connection whose
   * writer failed by itself reports this rather than the transport's
   * "connection closed" that followed.
   */
  get failure(): unknown {
    return this.#failure?.error;
  }

  /** Bytes the writer holds: queued, and in flight. */
  get bufferedBytes(): number {
    return this.#pendingBytes + this.#inFlightBytes;
  }

  /**
   * The connection has read input: what is queued next answers it, and is
   * written at once rather than held back a turn for more (see #flushLoop).
   * Only a producer that goes on writing without reading (a response
   * stream, a burst of pushes) has its small batches coalesced.
   */
  inputRead(): void {
    this.#busyWrites = 0;
  }

  /** Write bytes as they are (not framed), after everything queued so far; e.g. a preamble. */
  async writeRaw(bytes: Uint8Array): Promise<void> {
    await this.flush();
    await this.#writer.write(bytes);
    if (this.#counters) this.#counters.bytesSent += bytes.length;
  }

  /** Resolves once everything queued so far has been written. */
  async flush(): Promise<void> {
    while (this.#flushing) await this.#flushing;
    if (this.#failure) throw this.#failure.error;
  }

  /** Flush, then close the sink (a FIN on TCP). Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.flush().then(() => this.#closeSink());
    return this.#closing;
  }

  /**
   * Close the sink. One the transport errored meanwhile (the peer reset, or
   * the connection was closed under us) rejects with its own error, not the
   * stream's TypeError "cannot close a WritableStream that is errored", so
   * the failure is reported as the transport's.
   */
  async #closeSink(): Promise<void> {
    this.#unwatchDrain(); // flushed: no write in flight, and none will follow
    try {
      await this.#writer.close();
    } catch (error) {
      if (this.#writer.desiredSize === null) await this.#writer.closed; // rejects with the stored error
      throw error;
    }
  }

  async #flushLoop(): Promise<void> {
    // Yield once first, so every frame produced in this tick (e.g. the answers
    // to all requests of one socket read) goes out in the same write.
    await undefined;
    // One pooled buffer for the whole loop: each batch is written (and the
    // write awaited) before the next is encoded into it.
    let buffer: Uint8Array | undefined;
    let wrote = false;
    try {
      while (this.#pending.length > 0 && this.#failure === undefined) {
        // Writes in a row with no quiet turn between them (frames came during
        // a write, or since one in this same turn of the event loop): a
        // producer is still going (a response stream, a burst of pushes), a
        // frame or a few per run of microtasks. Past a few such writes, a
        // small batch waits one turn for more rather than cost a syscall per
        // handful of frames (300,000 40-byte rows: 4.4 frames per write on
        // Deno, 1 on Bun, whose writes complete at once; ~250 after). Request
        // and response traffic never waits: each read resets the count
        // (`inputRead()`). Over a transport whose reads and writes all complete
        // on microtasks (the memory transport, Bun's sockets while they keep
        // up), the loop never turns, and an echo would otherwise wait a turn
        // for nearly every response.
        this.#busyWrites = wrote || stillInTurn(this.#lastWriteTurn) ? this.#busyWrites + 1 : 0;
        if (this.#busyWrites >= COALESCE_AFTER_WRITES && this.#pendingBytes < COALESCE_BYTES) {
          await nextTurn();
          if (this.#failure !== undefined) break; // failed meanwhile: what was pending is dropped
        }
        wrote = true;
        const pendingFrames = this.#pending.length;
        // Only a batch big enough to churn the allocator (a broadcast's 16 KiB
        // frames) takes a pooled buffer: a small one is cheaper carved from
        // the shared slab, and an idle connection's one echo keeps no 64 KiB
        // buffer alive.
        if (this.#pooled && buffer === undefined && this.#pendingBytes >= POOL_FROM_BYTES) {
          buffer = writeChunks.take();
        }
        const chunk = this.#takePending(buffer);
        const frames = pendingFrames - this.#pending.length;
        if (this.#pendingBytes < this.#highWaterMark) this.#wakeWaiters();
        this.#inFlightBytes = chunk.length;
        if (this.#watchdog !== undefined) this.#watchDrain(this.#watchdog);
        await this.#writer.write(chunk);
        this.#lastWriteTurn = watchTurns();
        this.#inFlightBytes = 0;
        this.#marks?.remove(chunk.length);
        if (this.#counters) {
          this.#counters.framesSent += frames;
          this.#counters.bytesSent += chunk.length;
        }
      }
      if (buffer !== undefined) writeChunks.give(buffer);
    } catch (error) {
      // The buffer stays out of the pool: a failed write may still hold it.
      // A batch that could not be encoded (a codec or strategy that broke its
      // own length contract) is lost with the bytes before it: the stream is
      // no longer framed, so the connection must end rather than wait for
      // answers to frames that never went out. A sink that failed by itself
      // is already errored; aborting it again changes nothing.
      if (this.#fail(error)) this.#writer.abort(error).catch(() => {});
    } finally {
      this.#flushing = undefined;
    }
  }

  /**
   * Fail the writer with `error`: later sends throw it, waiting senders get
   * it, what is queued is dropped. The first failure wins (a drain timeout's
   * closed transport then fails the write in flight too); returns whether
   * this one did.
   */
  #fail(error: unknown): boolean {
    if (this.#failure !== undefined) return false;
    this.#failure = { error };
    // The bytes stay counted: the connection is ending, and pushes must not
    // be let in to a writer that throws (the push queues close instead).
    this.#pending = [];
    this.#bodySizes = [];
    this.#fragmentIds = [];
    this.#pendingBytes = 0;
    this.#inFlightBytes = 0;
    this.#unwatchDrain();
    for (const waiter of this.#roomWaiters.splice(0)) waiter.reject(error);
    return true;
  }

  /** A write starts: count it, and make sure the watchdog checks it. */
  #watchDrain(watchdog: DrainWatchdog): void {
    const write = ++this.#writesStarted;
    if (this.#watched) return;
    this.#watched = true;
    this.#watchedWrite = write;
    this.#watchedSince = performance.now();
    watchdog.watch(this.#checkDrain);
  }

  /**
   * The connection has ended: its drain checks stop now, not at the next
   * check, so a closed connection is not kept alive by the shared watchdog
   * (a churn of short connections would otherwise pile up for a quarter of
   * `drainTimeoutMs`).
   */
  stopDrainChecks(): void {
    this.#unwatchDrain();
  }

  #unwatchDrain(): void {
    if (!this.#watched) return;
    this.#watched = false;
    this.#watchdog!.unwatch(this.#checkDrain);
  }

  /**
   * A check: leave the watchdog if no write is in flight; note a write that began
   * since the last check (it began no earlier than the previous check, at
   * most a check period before now); else the one watched has been in flight
   * since `#watchedSince` at least: past the timeout, the peer has taken
   * nothing for that long: fail, and close the transport (which ends the
   * connection's reads and the stalled write).
   */
  readonly #checkDrain = (now: number): boolean => {
    if (this.#inFlightBytes === 0 || this.#failure !== undefined) {
      this.#watched = false;
      return false;
    }
    if (this.#writesStarted !== this.#watchedWrite) {
      this.#watchedWrite = this.#writesStarted;
      this.#watchedSince = now;
    }
    if (now - this.#watchedSince < this.#drainTimeoutMs) return true;
    this.#watched = false; // returning false drops it from the watchdog
    this.#fail(
      new DrainTimeoutError({
        connectionId: this.#connectionId,
        timeoutMs: this.#drainTimeoutMs,
        pendingBytes: this.bufferedBytes,
      }),
    );
    this.#transport!.close();
    return false;
  };

  /**
   * Encode pending frames into one chunk, and take them off the queue: all of
   * them, or with a pooled `buffer` that cannot hold them all, the frames
   * from the front that fit it (the rest wait for the next write), so a
   * busy connection writes from its pooled buffer and allocates nothing,
   * however much is queued (a `highWaterMark` above the buffer's size, or a
   * queue of 16 KiB pushes just past it, would otherwise cost a buffer of
   * its own at every write). A first frame larger than `buffer` gets a
   * buffer of its own.
   */
  #takePending(buffer: Uint8Array | undefined): Uint8Array {
    const entries = this.#pending;
    const sizes = this.#bodySizes;
    const ids = this.#fragmentIds;
    let size = this.#pendingBytes;
    let count = entries.length;
    if (buffer !== undefined && size > buffer.length) {
      [count, size] = this.#fitting(buffer.length);
      if (count === 0) [count, size] = [1, this.#entryFrameSize(0)];
    }
    // Zeroed like a new buffer: a serializer or strategy may leave bytes it does not set.
    const chunk = buffer !== undefined && size <= buffer.length
      ? buffer.subarray(0, size).fill(0)
      : this.#pooled && size < POOL_FROM_BYTES
      ? smallBatches.take(size)
      : new Uint8Array(size);
    const all = count === entries.length;
    if (all) {
      // The spare set takes what is queued from now on (even by a serializer
      // that sends while it encodes); this set becomes the spare once encoded.
      this.#pending = this.#sparePending;
      this.#bodySizes = this.#spareBodySizes;
      this.#fragmentIds = this.#spareFragmentIds;
    } else {
      this.#pending = entries.slice(count);
      this.#bodySizes = sizes.slice(count);
      this.#fragmentIds = ids.slice(count);
    }
    this.#pendingBytes -= size;
    const codec = this.#codec;
    const fragmenter = this.#fragmenter;
    let offset = 0;
    for (let i = 0; i < count; i++) {
      const entry = entries[i]!;
      const size = sizes[i]!;
      if (entry instanceof Uint8Array) {
        // Sized (and so checked) by #frameSize when it was queued.
        offset += codec.encodeCheckedInto
          ? codec.encodeCheckedInto(entry, chunk, offset)
          : codec.encodeInto(entry, chunk, offset);
      } else if (entry instanceof SingleFragment) {
        offset += codec.encodeHeaderInto!(size, chunk, offset);
        fragmenter!.writeHeader(entry.meta, entry.body, entry.headerLen, chunk, offset);
        chunk.set(entry.body, offset + entry.headerLen);
        offset += size;
      } else {
        offset += codec.encodeHeaderInto!(size, chunk, offset);
        if (fragmenter !== undefined) {
          // An envelope queued with a fragmenter was planned as one fragment.
          const headerLen = this.#singleHeaderLength;
          fragmenter.writeSingleHeader(size - headerLen, ids[i]!, chunk, offset);
          offset += headerLen;
        }
        offset += this.#serializer.encodeInto!(entry, chunk, offset);
      }
    }
    if (all) {
      this.#sparePending = emptied(entries);
      this.#spareBodySizes = emptied(sizes);
      this.#spareFragmentIds = emptied(ids);
    }
    return chunk;
  }

  /** How many pending frames from the front fit `limit` bytes, and their bytes. */
  #fitting(limit: number): [count: number, bytes: number] {
    let bytes = 0;
    for (let i = 0; i < this.#pending.length; i++) {
      const next = bytes + this.#entryFrameSize(i);
      if (next > limit) return [i, bytes];
      bytes = next;
    }
    return [this.#pending.length, bytes];
  }

  /** Framed size of pending entry `i`, as `#queue` counted it. */
  #entryFrameSize(i: number): number {
    const entry = this.#pending[i]!;
    return entry instanceof Uint8Array
      ? this.#frameSize(entry)
      : this.#frameSizeOf(this.#bodySizes[i]!);
  }

  #wakeWaiters(): void {
    // Called for every batch; nobody waits but a producer past the high-water
    // mark, and a splice allocates an array even when there is nothing to take.
    if (this.#roomWaiters.length === 0) return;
    for (const waiter of this.#roomWaiters.splice(0)) waiter.resolve();
  }
}
