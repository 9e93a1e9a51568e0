/**
 * The client's book of requests waiting for responses, keyed by
 * correlation id.
 *
 * @module
 */
import { AsyncQueue } from "../_internal/async_queue.ts";
import type { Envelope } from "../codec/envelope.ts";

/** What became of a delivered frame. */
export type PendingResponse =
  | { readonly kind: "delivered" }
  | { readonly kind: "wait"; readonly wait: Promise<void> }
  | { readonly kind: "ignored" }
  | { readonly kind: "mismatch"; readonly expected: bigint };

type Entry =
  | { kind: "one"; resolve(frame: Envelope): void; reject(error: unknown): void; release(): void }
  | {
    kind: "many";
    queue: AsyncQueue<Envelope>;
    isEnd?: ((frame: Envelope) => boolean) | undefined;
    release(): void;
  };

/** Late frames of abandoned requests are recognised (and ignored) for this many ids. */
const ABANDONED_MEMORY = 4096;

/** Requests waiting for responses, in the order they were sent. */
export class CorrelationTable {
  readonly #pending = new Map<bigint, Entry>();
  readonly #abandoned = new Set<bigint>();
  #idleWaiters: (() => void)[] = [];

  /** Expect exactly one response frame for `correlationId`. */
  expectOne(correlationId: bigint, signal?: AbortSignal): Promise<Envelope> {
    return new Promise((resolve, reject) => {
      const release = this.#watch(correlationId, signal, reject);
      this.#pending.set(correlationId, { kind: "one", resolve, reject, release });
    });
  }

  /** Expect a stream of response frames for `correlationId`. */
  expectMany(
    correlationId: bigint,
    bufferSize: number,
    options: {
      signal?: AbortSignal | undefined;
      isEnd?: ((frame: Envelope) => boolean) | undefined;
    },
  ): AsyncQueue<Envelope> {
    const queue = new AsyncQueue<Envelope>(bufferSize);
    const release = this.#watch(correlationId, options.signal, (reason) => queue.fail(reason));
    queue.onCancel = () => this.#settle(correlationId);
    this.#pending.set(correlationId, { kind: "many", queue, isEnd: options.isEnd, release });
    return queue;
  }

  /** Route a response frame to the request waiting for it. */
  deliver(frame: Envelope): PendingResponse {
    const correlationId = frame.correlationId!;
    const entry = this.#pending.get(correlationId);
    if (entry === undefined) {
      if (this.#abandoned.has(correlationId)) return { kind: "ignored" };
      const oldest = this.#pending.keys().next();
      return oldest.done ? { kind: "ignored" } : { kind: "mismatch", expected: oldest.value };
    }
    if (entry.kind === "one") {
      this.#settle(correlationId);
      entry.resolve(frame);
      return { kind: "delivered" };
    }
    const wait = entry.queue.push(frame);
    if (entry.isEnd?.(frame)) {
      this.#settle(correlationId);
      entry.queue.end();
    }
    return wait ? { kind: "wait", wait } : { kind: "delivered" };
  }

  /** Fail one request. */
  fail(correlationId: bigint, error: unknown): void {
    const entry = this.#pending.get(correlationId);
    if (entry === undefined) return;
    this.#settle(correlationId);
    reject(entry, error);
  }

  /** Fail the oldest waiting request (the one the server is answering). */
  failOldest(error: unknown): void {
    const oldest = this.#pending.keys().next();
    if (!oldest.done) this.fail(oldest.value, error);
  }

  /** Fail every waiting request (the connection is gone). */
  failAll(error: unknown): void {
    for (const correlationId of [...this.#pending.keys()]) this.fail(correlationId, error);
  }

  /** Resolves when nothing is waiting, or after `timeoutMs`. */
  idle(timeoutMs: number): Promise<void> {
    if (this.#pending.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.#idleWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  #watch(
    correlationId: bigint,
    signal: AbortSignal | undefined,
    onAbort: (reason: unknown) => void,
  ): () => void {
    if (signal === undefined) return noop;
    const abort = () => {
      this.#settle(correlationId);
      onAbort(signal.reason);
    };
    if (signal.aborted) {
      queueMicrotask(abort);
      return noop;
    }
    signal.addEventListener("abort", abort, { once: true });
    return () => signal.removeEventListener("abort", abort);
  }

  #settle(correlationId: bigint): void {
    const entry = this.#pending.get(correlationId);
    if (entry === undefined) return;
    this.#pending.delete(correlationId);
    entry.release();
    // Remember the id so a late or duplicate frame for it is ignored, not a mismatch.
    this.#abandoned.add(correlationId);
    if (this.#abandoned.size > ABANDONED_MEMORY) {
      this.#abandoned.delete(this.#abandoned.values().next().value!);
    }
    if (this.#pending.size === 0) { for (const wake of this.#idleWaiters.splice(0)) wake(); }
  }
}

function reject(entry: Entry, error: unknown): void {
  if (entry.kind === "one") entry.reject(error);
  else entry.queue.fail(error);
}

function noop(): void {}
