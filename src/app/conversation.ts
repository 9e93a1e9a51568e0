/**
 * Conversations: a handler that receives the next frames of its own
 * connection for the rest of its command (`ctx.next()`, `ctx.receive()`), as
 * MySQL's `LOAD DATA LOCAL INFILE` or SMTP's `DATA` need.
 *
 * @module
 */
import type { Envelope } from "../codec/envelope.ts";
import { WireframeBaseError } from "../error.ts";

/** Options of `ctx.next()` and `ctx.receive()`. */
export interface ReceiveOptions {
  /** Give up after this many ms without a frame: rejects with `ConversationError("timeout")`. */
  timeoutMs?: number;
  /** Give up when it aborts: rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** Why a conversation could not deliver a frame. */
export type ConversationFailure =
  | "timeout"
  | "peer-closed"
  | "not-in-command"
  | "concurrent";

/**
 * A conversation could not deliver a frame: `timeout` (none within
 * `timeoutMs`), `peer-closed` (the peer ended or reset the connection, or it
 * is closing), `not-in-command` (called outside a handler's command, or after
 * it ended), `concurrent` (a second `next()` while one is waiting).
 */
export class ConversationError extends WireframeBaseError {
  /** Why. */
  readonly reason: ConversationFailure;

  /**
   * Create the error.
   *
   * @param reason why no frame was delivered
   * @param message what happened
   */
  constructor(reason: ConversationFailure, message: string) {
    super("ERR_CONVERSATION", message);
    this.reason = reason;
  }
}

/** What the context needs from its connection to receive frames (internal). */
export interface FrameReceiver {
  /** The next frame of the current command's conversation. */
  next(options: ReceiveOptions | undefined): Promise<Envelope>;
}

/** A receiver for a context that has no connection behind it: every call fails. */
export const NO_RECEIVER: FrameReceiver = {
  next: () =>
    Promise.reject(
      new ConversationError("not-in-command", "this context belongs to no live connection"),
    ),
};

/** `receiver.next()` over and over, as an async iterable that ends only by the caller's break. */
export async function* receiveFrames(
  receiver: FrameReceiver,
  options: ReceiveOptions | undefined,
): AsyncGenerator<Envelope, void, undefined> {
  while (true) yield await receiver.next(options);
}
