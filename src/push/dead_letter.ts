/**
 * The dead-letter queue: where frames dropped by a drop policy go, without
 * ever blocking the pusher.
 *
 * @module
 */
import type { Envelope } from "../codec/envelope.ts";
import type { Logger } from "../observe/logger.ts";
import type { PushPriority } from "./push_handle.ts";

/** A frame that could not be queued, with where it was going. */
export interface DeadLetter {
  /** The connection the frame was pushed to. */
  readonly connectionId: number;
  /** The priority it was pushed with. */
  readonly priority: PushPriority;
  /** The frame itself. */
  readonly frame: Envelope;
  /** Why it was dropped: its queue was full, or the connection was force-closed with it queued. */
  readonly reason: "full" | "connection-closed";
}

const LOG_EVERY_MS = 1_000;

/** The sink of each dead-letter stream: a stream has one writer, shared by all who use it. */
const SINKS = new WeakMap<WritableStream<DeadLetter>, DeadLetterSink>();

/**
 * Offers dead letters to a user's `WritableStream` without waiting: when the
 * stream has no room (or has failed), the letter is counted as lost and the
 * loss is logged at most once a second.
 */
export class DeadLetterSink {
  readonly #writer: WritableStreamDefaultWriter<DeadLetter>;
  readonly #logger: Logger;
  #failed = false;
  #lost = 0;
  #lostSinceLog = 0;
  #lastLog = -Infinity;

  /**
   * @param stream where dead letters go
   * @param logger where losses are reported
   */
  constructor(stream: WritableStream<DeadLetter>, logger: Logger) {
    // One writer per stream: a second sink would find the stream locked.
    SINKS.set(stream, this);
    this.#writer = stream.getWriter();
    this.#logger = logger;
    this.#writer.closed.catch(() => (this.#failed = true));
  }

  /**
   * The sink of `stream`: the one already made for it (another server of the
   * same app, say one on TCP and one on WebSocket), else a new one.
   */
  static for(stream: WritableStream<DeadLetter>, logger: Logger): DeadLetterSink {
    return SINKS.get(stream) ?? new DeadLetterSink(stream, logger);
  }

  /** Letters that could not be delivered to the dead-letter stream. */
  get lost(): number {
    return this.#lost;
  }

  /** Deliver `letter` if the stream has room now; otherwise count and (throttled) log the loss. */
  offer(letter: DeadLetter): void {
    const room = this.#writer.desiredSize;
    if (!this.#failed && room !== null && room > 0) {
      this.#writer.write(letter).catch(() => this.#countLoss(letter));
      return;
    }
    this.#countLoss(letter);
  }

  #countLoss(letter: DeadLetter): void {
    this.#lost++;
    this.#lostSinceLog++;
    const now = performance.now();
    if (now - this.#lastLog < LOG_EVERY_MS) return;
    this.#logger.warn("dead-letter queue full: frames lost", {
      lost: this.#lostSinceLog,
      lostTotal: this.#lost,
      lastConnectionId: letter.connectionId,
    });
    this.#lostSinceLog = 0;
    this.#lastLog = now;
  }
}
