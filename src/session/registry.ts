/**
 * `SessionRegistry`: find live connections' push handles by connection id
 * (roadmap 2.3).
 *
 * @module
 */
import type { Envelope } from "../codec/envelope.ts";
import type { PolicyPushOptions, PolicyPushResult } from "../push/push_handle.ts";
import type { PushHandle } from "../push/push_handle.ts";

/**
 * Live connections by id. The server adds a connection once its setup has run
 * and removes it the moment it starts closing, so `get()` of a dead id is
 * `undefined`. Handles are held through `WeakRef`s (and swept by a
 * `FinalizationRegistry`), so the registry can never keep a connection alive.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import {
 *   SessionRegistry,
 *   WireframeApp,
 *   WireframeClient,
 *   WireframeServer,
 * } from "@wireframe/wireframe";
 *
 * const sessions = new SessionRegistry();
 * const app = new WireframeApp().sessions(sessions).route(1, () => new Uint8Array(0));
 * await using server = new WireframeServer(app);
 * await using client = await WireframeClient.connect({ port: (await server.listen()).port });
 * await client.request(1, new Uint8Array(0)); // the connection is set up and registered
 *
 * // elsewhere, e.g. on a timer:
 * const reached = await sessions.broadcast({ id: 13, payload: new Uint8Array([1]) }, {
 *   policy: "drop-if-full",
 * });
 * assert.equal(reached, 1);
 * for await (const push of client.pushes()) {
 *   assert.deepEqual(push, { id: 13, payload: Uint8Array.of(1) }); // no correlation id
 *   break;
 * }
 * ```
 */
export class SessionRegistry {
  readonly #handles = new Map<number, WeakRef<PushHandle>>();
  readonly #sweeper = new FinalizationRegistry<number>((id) => {
    const ref = this.#handles.get(id);
    if (ref !== undefined && ref.deref() === undefined) this.#handles.delete(id);
  });

  /** Number of live connections. */
  get size(): number {
    return this.ids().length;
  }

  /** The push handle of a live connection, or `undefined`. */
  get(connectionId: number): PushHandle | undefined {
    const handle = this.#handles.get(connectionId)?.deref();
    if (handle === undefined || handle.isClosed) {
      if (handle === undefined) this.#handles.delete(connectionId);
      return undefined;
    }
    return handle;
  }

  /** Ids of the live connections. */
  ids(): number[] {
    const ids: number[] = [];
    for (const id of this.#handles.keys()) if (this.get(id) !== undefined) ids.push(id);
    return ids;
  }

  /** Handles of the live connections. */
  handles(): PushHandle[] {
    const handles: PushHandle[] = [];
    for (const id of this.#handles.keys()) {
      const handle = this.get(id);
      if (handle !== undefined) handles.push(handle);
    }
    return handles;
  }

  /**
   * Push `frame` to every live connection with `pushWithPolicy` (so a
   * connection that stopped reading cannot slow the others down with a drop
   * policy); resolves with the number of connections it was queued for.
   */
  async broadcast(frame: Envelope, options: PolicyPushOptions): Promise<number> {
    // No promise per connection unless one has to wait for a rate token: a
    // broadcast at full speed to many connections is otherwise mostly garbage.
    let queued = 0;
    let waiting: Promise<PolicyPushResult>[] | undefined;
    for (const id of this.#handles.keys()) {
      const handle = this.get(id);
      if (handle === undefined) continue;
      let outcome: PolicyPushResult | "closed" | "full" | Promise<PolicyPushResult>;
      try {
        outcome = handle.pushWithPolicyNow(frame, options);
      } catch {
        continue; // not queued, as a rejected pushWithPolicy
      }
      if (outcome === "queued") queued++;
      else if (typeof outcome !== "string") (waiting ??= []).push(outcome);
    }
    if (waiting === undefined) return queued;
    for (const outcome of await Promise.allSettled(waiting)) {
      if (outcome.status === "fulfilled" && outcome.value === "queued") queued++;
    }
    return queued;
  }

  /** Register a connection's handle (done by the server). */
  add(handle: PushHandle): void {
    this.#handles.set(handle.connectionId, new WeakRef(handle));
    this.#sweeper.register(handle, handle.connectionId, handle);
  }

  /** Forget a connection (done by the server as it closes). */
  remove(handle: PushHandle): void {
    if (this.#handles.get(handle.connectionId)?.deref() === handle) {
      this.#handles.delete(handle.connectionId);
    }
    this.#sweeper.unregister(handle);
  }
}
