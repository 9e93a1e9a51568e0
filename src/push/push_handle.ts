/**
 * `PushHandle`: send frames to a live connection from anywhere, with
 * priorities, back-pressure, drop policies and a rate limit.
 *
 * @module
 */
import type { Envelope } from "../codec/envelope.ts";
import { PushError, type PushFailure } from "./errors.ts";

/** Priority of a pushed frame: high-priority pushes go before low-priority ones. */
export type PushPriority = "high" | "low";

/** What to do when the queue is full (`pushWithPolicy`). */
export type PushPolicy = "error-if-full" | "drop-if-full" | "warn-and-drop-if-full";

/** Options of {@link PushHandle.push}. */
export interface PushOptions {
  /** `"high"` (default) or `"low"`. */
  priority?: PushPriority;
  /** Give up waiting for room or a rate token; the push rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** Options of {@link PushHandle.pushWithPolicy}. */
export interface PolicyPushOptions extends PushOptions {
  /** What to do when the queue is full. */
  policy: PushPolicy;
}

/** Outcome of {@link PushHandle.tryPush}: queued, or why not. */
export type TryPushResult = "queued" | PushFailure;

/** Outcome of {@link PushHandle.pushWithPolicy}. */
export type PolicyPushResult = "queued" | "dropped";

/**
 * What a handle needs from its connection (implemented by the connection's
 * outbound actor). Not part of the public API.
 */
export interface PushTarget {
  readonly connectionId: number;
  readonly closed: Promise<void>;
  readonly isClosed: boolean;
  /** Queue now, or report why not. Never waits. */
  tryPush(frame: Envelope, priority: PushPriority, checkRate: boolean): TryPushResult;
  /** Wait for a rate token and room, then queue; rejects with PushError("closed") or the signal's reason. */
  push(frame: Envelope, priority: PushPriority, signal: AbortSignal | undefined): Promise<void>;
  /** Wait for a rate token only; rejects like `push`. */
  takeRateToken(signal: AbortSignal | undefined): Promise<void>;
  /** Hand a frame a drop policy refused to the dead-letter queue. */
  deadLetter(frame: Envelope, priority: PushPriority, warn: boolean): void;
}

/**
 * A handle to push frames to one live connection, from any code: a handler, a
 * timer, another connection. Get it as `ctx.push` (or in
 * `WireframeProtocol.onConnectionSetup`), or from a `SessionRegistry`.
 *
 * Pushed frames carry no correlation id unless you set one. Each connection
 * has a high- and a low-priority queue; high frames go first (with a fairness
 * bound), and both go before the frames of a response.
 *
 * - `push()` waits for room and for a rate token (back-pressure);
 * - `tryPush()` never waits and says why it could not queue;
 * - `pushWithPolicy()` waits for a rate token, then queues or applies its
 *   policy when the queue is full (dropped frames go to the dead-letter queue).
 *
 * A push to a closed connection fails with `closed` under every policy.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { WireframeApp, WireframeClient, WireframeServer } from "@wireframe/wireframe";
 *
 * const app = new WireframeApp().route(10, (_req, ctx) => {
 *   const timer = setInterval(() => {
 *     ctx.push.tryPush({ id: 11, payload: new Uint8Array(0) }, { priority: "low" });
 *   }, 10);
 *   ctx.signal.addEventListener("abort", () => clearInterval(timer)); // the connection went away
 *   return new Uint8Array(0);
 * });
 *
 * await using server = new WireframeServer(app);
 * await using client = await WireframeClient.connect({ port: (await server.listen()).port });
 * await client.request(10, new Uint8Array(0)); // subscribe
 * const ticks: number[] = [];
 * for await (const push of client.pushes()) {
 *   ticks.push(push.id);
 *   if (ticks.length === 3) break;
 * }
 * assert.deepEqual(ticks, [11, 11, 11]);
 * ```
 */
export class PushHandle {
  readonly #target: PushTarget;

  /** @internal Handles are created by the server for each connection. */
  constructor(target: PushTarget) {
    this.#target = target;
  }

  /** The server-assigned id of the connection. */
  get connectionId(): number {
    return this.#target.connectionId;
  }

  /** Resolves when the connection stops accepting pushes (closing or closed). */
  get closed(): Promise<void> {
    return this.#target.closed;
  }

  /** True once the connection stops accepting pushes. */
  get isClosed(): boolean {
    return this.#target.isClosed;
  }

  /**
   * Queue `frame`, waiting for a rate token and for room in its queue.
   * Resolves once queued (not once written).
   * @throws {PushError} `closed` if the connection is closing or gone
   */
  push(frame: Envelope, options: PushOptions = {}): Promise<void> {
    return this.#target.push(frame, options.priority ?? "high", options.signal);
  }

  /** Queue `frame` now if possible; never waits. */
  tryPush(frame: Envelope, options: { priority?: PushPriority } = {}): TryPushResult {
    return this.#target.tryPush(frame, options.priority ?? "high", true);
  }

  /**
   * Wait for a rate token, then queue `frame` or, if its queue is full, apply
   * `policy`: `"error-if-full"` throws `PushError("full")`; the drop policies
   * send the frame to the dead-letter queue (warning first, for
   * `"warn-and-drop-if-full"`) and resolve `"dropped"`.
   * @throws {PushError} `closed` under every policy if the connection is closing or gone
   */
  async pushWithPolicy(frame: Envelope, options: PolicyPushOptions): Promise<PolicyPushResult> {
    const priority = options.priority ?? "high";
    // Queue at once when possible, so call order is wire order (see push()).
    if (!options.signal?.aborted && this.#target.tryPush(frame, priority, true) === "queued") {
      return "queued";
    }
    await this.#target.takeRateToken(options.signal);
    const result = this.#target.tryPush(frame, priority, false);
    if (result === "queued") return "queued";
    if (result === "closed") throw new PushError("closed");
    if (options.policy === "error-if-full") throw new PushError("full");
    this.#target.deadLetter(frame, priority, options.policy === "warn-and-drop-if-full");
    return "dropped";
  }
}
