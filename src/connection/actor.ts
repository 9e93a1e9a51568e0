/**
 * The connection actor's outbound side (roadmap 1.2, 1.3): a strictly biased
 * merge of the high- and low-priority push queues and the current response,
 * feeding the frame writer.
 *
 * Order: high > low > response, FIFO within each. Fairness: after
 * `maxHighBeforeLow` consecutive high frames (or `timeSliceMs` of them), one
 * waiting low frame goes next. The response producer is at most one frame
 * ahead of the writer, so a response never delays a push by more than one
 * frame. Shutdown (highest) is handled by the connection: `close()` refuses
 * new pushes and flushes queued ones; `abort()` dead-letters what is left.
 *
 * @module
 */
import type { Envelope } from "../codec/envelope.ts";
import { PushError } from "../push/errors.ts";
import type { PushConsumer, PushQueues } from "../push/push_queues.ts";
import type { Clock } from "../push/token_bucket.ts";
import type { FrameWriter } from "../wire/frame_writer.ts";

/** What the actor calls out to for every frame it writes (the protocol's hooks). */
export interface OutboundHooks {
  /** Rewrites every frame just before it is written (protocol `beforeSend`); may throw. */
  beforeSend(frame: Envelope): Envelope;
  /** A push frame could not be sent (`beforeSend` or encoding threw): it is dropped. */
  pushFailed(error: unknown, frame: Envelope): void;
}

/** One connection's actor: what it merges, where it writes, and its fairness. */
export interface ActorOptions {
  /** The connection's push queues, which the actor empties. */
  readonly queues: PushQueues;
  /** Where frames go. */
  readonly writer: FrameWriter;
  /** Called for every frame written. */
  readonly hooks: OutboundHooks;
  /** Consecutive high frames before a waiting low frame goes; 0 = strict priority. */
  readonly maxHighBeforeLow: number;
  /** Optional: after this many ms of consecutive high frames, a waiting low frame goes. */
  readonly timeSliceMs: number | undefined;
  /** Time source of `timeSliceMs`. */
  readonly clock: Clock;
  /**
   * Queue pushes but send none until `releasePushes()`, while response
   * frames go out (the greeting must be the first bytes on the wire, even
   * when setup code pushed). Default: false.
   */
  readonly holdPushes?: boolean;
}

interface ResponseSlot {
  frame: Envelope;
  resolve(): void;
  reject(error: unknown): void;
}

/** One connection's outbound scheduler. */
export class OutboundActor implements PushConsumer {
  readonly #queues: PushQueues;
  readonly #out: FrameWriter;
  readonly #options: ActorOptions;
  readonly #hooks: OutboundHooks;
  #slot: ResponseSlot | undefined;
  #waitingForRoom = false;
  #highStreak = 0;
  #streakStartedAt = 0;
  #idleWaiters: (() => void)[] = [];
  #failure: { error: unknown } | undefined;
  /** Pushes discarded by an abort after a failed write, not yet reported by `abort()`. */
  #discardedEarlier = 0;
  /** Pushes are queued, not sent, until `releasePushes()` (see `ActorOptions.holdPushes`). */
  #holding: boolean;

  constructor(options: ActorOptions) {
    this.#queues = options.queues;
    this.#out = options.writer;
    this.#options = options;
    this.#hooks = options.hooks;
    this.#holding = options.holdPushes ?? false;
    this.#queues.onPush(this);
  }

  /** The push queues took a frame: send it now if nothing holds it back. */
  pushed(): void {
    this.#pump();
  }

  // --- response side ---

  /**
   * Offer the next frame of the current response. Returns `undefined` if it
   * was written at once, else a promise that settles when the actor takes it
   * (rejecting if `beforeSend` threw or the writer failed).
   */
  offerResponse(frame: Envelope): Promise<void> | undefined {
    if (this.#failure) throw this.#failure.error;
    if (!this.#waitingForRoom && (this.#holding || this.#queues.size === 0)) {
      this.#write(this.#hooks.beforeSend(frame));
      return undefined;
    }
    return new Promise((resolve, reject) => {
      this.#slot = { frame, resolve, reject };
    });
  }

  // --- lifecycle ---

  /** Start sending pushes: those queued while held go out first, in order. */
  releasePushes(): void {
    if (!this.#holding) return;
    this.#holding = false;
    this.#pump();
  }

  /** Refuse new pushes (they fail with `closed`); queued pushes still go out. */
  close(): void {
    this.#queues.close();
  }

  /** Resolves when no push and no response frame is waiting (after `close()`, when all are flushed). */
  idle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /**
   * Dead-letter what is queued now, counting it for the final `abort()` to
   * report (after a failed write, or a forced close that still flushes the
   * writer).
   */
  dropQueued(): void {
    // abort() already includes (and resets) what earlier drops counted.
    this.#discardedEarlier = this.abort();
  }

  /**
   * The connection is gone: dead-letter whatever is still queued. Returns how
   * many pushes were discarded, including by an earlier `dropQueued()`.
   */
  abort(): number {
    const discarded = this.#queues.discard() + this.#discardedEarlier;
    this.#discardedEarlier = 0;
    this.#slot?.reject(new PushError("closed"));
    this.#slot = undefined;
    this.#wakeIdle();
    return discarded;
  }

  // --- the scheduler ---

  #pump(): void {
    while (!this.#waitingForRoom && !this.#failure) {
      const high = this.#holding ? undefined : this.#queues.high.peek();
      const low = this.#holding ? undefined : this.#queues.low.peek();
      if (high !== undefined && (low === undefined || !this.#lowIsDue())) {
        // The clock only matters to a time slice (a clock read costs ~0.1 µs on Deno).
        if (this.#highStreak++ === 0 && this.#options.timeSliceMs !== undefined) {
          this.#streakStartedAt = this.#options.clock();
        }
        this.#sendPush(this.#queues.take("high")!);
      } else if (low !== undefined) {
        this.#highStreak = 0;
        this.#sendPush(this.#queues.take("low")!);
      } else if (this.#slot) {
        this.#highStreak = 0;
        const slot = this.#slot;
        this.#slot = undefined;
        try {
          this.#write(this.#hooks.beforeSend(slot.frame));
          slot.resolve();
        } catch (error) {
          slot.reject(error);
        }
      } else {
        this.#highStreak = 0;
        break;
      }
    }
    if (this.#isIdle()) this.#wakeIdle();
  }

  #lowIsDue(): boolean {
    const { maxHighBeforeLow, timeSliceMs, clock } = this.#options;
    if (maxHighBeforeLow > 0 && this.#highStreak >= maxHighBeforeLow) return true;
    return timeSliceMs !== undefined && this.#highStreak > 0 &&
      clock() - this.#streakStartedAt >= timeSliceMs;
  }

  #sendPush(frame: Envelope): void {
    try {
      this.#writePush(frame);
    } finally {
      // Counted by the writer now (or dropped): the queues stop counting it.
      this.#queues.handedOff(frame);
    }
  }

  #writePush(frame: Envelope): void {
    let rewritten: Envelope;
    try {
      rewritten = this.#hooks.beforeSend(frame);
    } catch (error) {
      this.#hooks.pushFailed(error, frame);
      return;
    }
    try {
      this.#write(rewritten);
    } catch (error) {
      // A writer that failed (a write error, a drain timeout) fails every
      // frame from now on: that is the connection's end, not this frame's fault.
      if (this.#out.failed) this.#fail(error);
      else this.#hooks.pushFailed(error, frame);
    }
  }

  /** Hand one frame to the writer; when it reports back-pressure, pause until it has room. */
  #write(frame: Envelope): void {
    const wait = this.#out.send(frame);
    if (wait === undefined) return;
    this.#waitingForRoom = true;
    // Bound once, not two closures per wait: a push stream waits every few frames.
    wait.then(this.#roomFreed, this.#writeFailed);
  }

  readonly #roomFreed = (): void => {
    this.#waitingForRoom = false;
    this.#pump();
  };

  readonly #writeFailed = (error: unknown): void => this.#fail(error);

  /** The writer failed: stop, reject the response frame waiting, dead-letter the pushes queued. */
  #fail(error: unknown): void {
    if (this.#failure) return;
    this.#failure = { error };
    this.#slot?.reject(error);
    this.#slot = undefined;
    this.dropQueued();
  }

  #isIdle(): boolean {
    return this.#queues.size === 0 && this.#slot === undefined;
  }

  #wakeIdle(): void {
    if (this.#idleWaiters.length === 0) return; // splice(0) would allocate, at every pump
    for (const wake of this.#idleWaiters.splice(0)) wake();
  }
}
