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
  /** Take a rate token if one is free now (always, without a rate limit); false once closed. */
  tryTakeRateToken(): boolean;
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
  pushWithPolicy(frame: Envelope, options: PolicyPushOptions): Promise<PolicyPushResult> {
    let outcome: PolicyPushResult | "closed" | "full" | Promise<PolicyPushResult>;
    try {
      outcome = this.pushWithPolicyNow(frame, options);
    } catch (error) {
      return Promise.reject(error);
    }
    if (typeof outcome !== "string") return outcome;
    return outcome === "closed" || outcome === "full"
      ? Promise.reject(new PushError(outcome))
      : Promise.resolve(outcome);
  }

  /**
   * @internal `pushWithPolicy` for `SessionRegistry.broadcast`: the outcome
   * at once when nothing has to wait (`"closed"` and, under `error-if-full`,
   * `"full"` are what `pushWithPolicy` rejects with), a promise only when a
   * rate token must be waited for. A broadcast to many connections of which
   * many are full then costs no promise per connection: an async call per
   * connection and `Promise.allSettled` over them were half of what a
   * broadcast allocated (bench/abuse slow-consumer, Deno), garbage that grew
   * the runtime's young generation.
   */
  pushWithPolicyNow(
    frame: Envelope,
    options: PolicyPushOptions,
  ): PolicyPushResult | "closed" | "full" | Promise<PolicyPushResult> {
    const priority = options.priority ?? "high";
    // Queue at once when possible, so call order is wire order (see push()).
    if (!options.signal?.aborted) {
      const first = this.#target.tryPush(frame, priority, true);
      if (first === "queued" || first === "closed") return first;
      // Full, or rate-limited: with a token free now, the policy applies now.
      if (this.#target.tryTakeRateToken()) return this.#withPolicy(frame, priority, options.policy);
    }
    return this.#withPolicyLater(frame, priority, options);
  }

  /** Wait for a rate token (or the signal, or the close), then queue or apply the policy. */
  async #withPolicyLater(
    frame: Envelope,
    priority: PushPriority,
    options: PolicyPushOptions,
  ): Promise<PolicyPushResult> {
    await this.#target.takeRateToken(options.signal);
    const outcome = this.#withPolicy(frame, priority, options.policy);
    if (outcome === "closed" || outcome === "full") throw new PushError(outcome);
    return outcome;
  }

  /** A rate token taken: queue `frame`, or apply `policy` to it. */
  #withPolicy(
    frame: Envelope,
    priority: PushPriority,
    policy: PushPolicy,
  ): PolicyPushResult | "closed" | "full" {
    const result = this.#target.tryPush(frame, priority, false);
    if (result === "queued" || result === "closed") return result;
    if (policy === "error-if-full") return "full";
    this.#target.deadLetter(frame, priority, policy === "warn-and-drop-if-full");
    return "dropped";
  }
}
