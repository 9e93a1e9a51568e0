/**
 * `Conversation`: hands the frames a connection reads to the handler of the
 * command in flight, once that handler asks for them (`ctx.next()`), instead
 * of to the router.
 *
 * It holds at most one frame: the read loop offers a frame and waits until
 * the handler takes it, or until the command ends and the frame goes back to
 * the router. So a slow conversation stops socket reads, and no frame is lost
 * or taken twice.
 *
 * @module
 */
import { ConversationError, type FrameReceiver, type ReceiveOptions } from "../app/conversation.ts";
import type { Envelope } from "../codec/envelope.ts";
import { ConfigError } from "../error.ts";

const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Checked by hand, not with zod: `next()` may run once per frame of a long
 * upload, and most calls pass no options at all.
 */
function checked(options: ReceiveOptions | undefined): ReceiveOptions {
  if (options === undefined) return {};
  const { timeoutMs, signal } = options;
  if (
    timeoutMs !== undefined &&
    !(Number.isInteger(timeoutMs) && timeoutMs >= 1 && timeoutMs <= MAX_TIMER_MS)
  ) {
    throw new ConfigError(
      "timeoutMs",
      `next: option "timeoutMs" must be an integer from 1 to ${MAX_TIMER_MS} (got ${timeoutMs})`,
    );
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new ConfigError("signal", 'next: option "signal" must be an AbortSignal');
  }
  return options;
}

interface Waiter {
  resolve(frame: Envelope): void;
  reject(error: unknown): void;
  timer: ReturnType<typeof setTimeout> | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

interface Offer {
  readonly frame: Envelope;
  /** true: the handler took it; false: the command ended first, route it. */
  settle(taken: boolean): void;
}

/** What a {@link Conversation} reports. */
export interface ConversationEvents {
  /** The command's handler asked for its first frame. */
  conversationStarted(): void;
  /** The command that conversed ended. */
  conversationEnded(): void;
}

/** The conversation of one connection's command in flight, if its handler opens one. */
export class Conversation implements FrameReceiver {
  readonly #events: ConversationEvents | undefined;
  #inCommand = false;
  #open = false;
  #waiter: Waiter | undefined;
  #offer: Offer | undefined;
  /** The read loop, waiting for the command to end or to open this conversation. */
  #wakeReader: (() => void) | undefined;
  /**
   * Set once no frame can come any more (the peer's EOF, a reset, the close):
   * the message of the `peer-closed` error a waiting or later `next()` gets.
   */
  #endedMessage: string | undefined;
  /** That error, made when the first `next()` is refused with it (most connections have none). */
  #ended: ConversationError | undefined;

  /** @param events told when a command's handler opens and ends a conversation (tracing) */
  constructor(events?: ConversationEvents) {
    this.#events = events;
  }

  /** True while the command's handler receives frames. */
  get isOpen(): boolean {
    return this.#open;
  }

  /** A command starts: its handler may open the conversation. */
  beginCommand(): void {
    this.#inCommand = true;
  }

  /** The command ended: a frame still on offer goes back to the router. */
  endCommand(): void {
    this.#inCommand = false;
    this.#wakeReader = undefined;
    if (!this.#open) return; // the common case: a command that never conversed
    this.#open = false;
    this.#events?.conversationEnded();
    const offer = this.#offer;
    this.#offer = undefined;
    offer?.settle(false);
    if (this.#waiter) {
      this.#rejectWaiter(
        new ConversationError("not-in-command", "the command ended before a frame arrived"),
      );
    }
  }

  /**
   * What the read loop awaits for a command that did not finish at once: the
   * command's end, or its handler opening the conversation (the read loop
   * then reads on for it). Rejects as `exchange` does.
   */
  whileCommand(exchange: Promise<void>): Promise<void> {
    // The handler may have asked already, before its first await.
    if (this.#open) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#wakeReader = resolve;
      exchange.then(resolve, reject);
    });
  }

  /** Offer the handler a frame: true if it took it now, else a promise of whether it did. */
  offer(frame: Envelope): true | Promise<boolean> {
    const waiter = this.#waiter;
    if (waiter !== undefined) {
      this.#clearWaiter(waiter);
      waiter.resolve(frame);
      return true;
    }
    return new Promise((settle) => (this.#offer = { frame, settle }));
  }

  /**
   * No frame can come any more: a waiting or later `next()` rejects with a
   * `peer-closed` error saying `message` (the first end's message wins; every
   * such `next()` gets the same error).
   */
  end(message: string): void {
    this.#endedMessage ??= message;
    if (this.#waiter) this.#rejectWaiter(this.#endedError());
  }

  #endedError(): ConversationError {
    return this.#ended ??= new ConversationError("peer-closed", this.#endedMessage!);
  }

  next(options: ReceiveOptions | undefined): Promise<Envelope> {
    let timeoutMs: number | undefined, signal: AbortSignal | undefined;
    try {
      ({ timeoutMs, signal } = checked(options));
    } catch (error) {
      return Promise.reject(error);
    }
    if (!this.#inCommand) {
      return Promise.reject(
        new ConversationError("not-in-command", "next() outside a handler's command"),
      );
    }
    if (this.#endedMessage !== undefined) return Promise.reject(this.#endedError());
    if (this.#waiter) {
      return Promise.reject(
        new ConversationError("concurrent", "next() while another next() is waiting"),
      );
    }
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (!this.#open) this.#events?.conversationStarted();
    this.#open = true;
    const wake = this.#wakeReader;
    this.#wakeReader = undefined;
    wake?.();
    const offer = this.#offer;
    if (offer !== undefined) {
      this.#offer = undefined;
      offer.settle(true);
      return Promise.resolve(offer.frame);
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, timer: undefined, signal, onAbort: undefined };
      if (timeoutMs !== undefined) {
        waiter.timer = setTimeout(
          () =>
            this.#rejectWaiter(
              new ConversationError("timeout", `no frame within ${timeoutMs} ms`),
            ),
          timeoutMs,
        );
      }
      if (signal !== undefined) {
        waiter.onAbort = () => this.#rejectWaiter(signal.reason);
        signal.addEventListener("abort", waiter.onAbort, { once: true });
      }
      this.#waiter = waiter;
    });
  }

  #rejectWaiter(error: unknown): void {
    const waiter = this.#waiter;
    if (waiter === undefined) return;
    this.#clearWaiter(waiter);
    waiter.reject(error);
  }

  #clearWaiter(waiter: Waiter): void {
    this.#waiter = undefined;
    clearTimeout(waiter.timer);
    if (waiter.onAbort) waiter.signal!.removeEventListener("abort", waiter.onAbort);
  }
}
