/**
 * Why a push was refused.
 *
 * @module
 */
import { WireframeBaseError } from "../error.ts";

/**
 * Why a push did not queue its frame:
 * - `"full"` — the priority's queue is at capacity (`tryPush`, `"error-if-full"`);
 * - `"closed"` — the connection is closing or gone (every kind of push);
 * - `"rate-limited"` — no rate token is available now (`tryPush` only; `push` waits).
 */
export type PushFailure = "full" | "closed" | "rate-limited";

/**
 * A push was refused. `reason` says why; the frame was not queued (and, under
 * a drop policy, went to the dead-letter queue instead).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import {
 *   PushError,
 *   type PushHandle,
 *   WireframeApp,
 *   WireframeClient,
 *   WireframeServer,
 * } from "@wireframe/wireframe";
 *
 * async function notify(handle: PushHandle, payload: Uint8Array): Promise<boolean> {
 *   try {
 *     await handle.push({ id: 7, payload });
 *     return true;
 *   } catch (err) {
 *     if (err instanceof PushError && err.reason === "closed") return false; // peer left
 *     throw err;
 *   }
 * }
 *
 * let handle: PushHandle | undefined;
 * const app = new WireframeApp().route(1, (_req, ctx) => {
 *   handle = ctx.push;
 *   return new Uint8Array(0); // a reply, so that the request resolves
 * });
 * await using server = new WireframeServer(app);
 * const client = await WireframeClient.connect({ port: (await server.listen()).port });
 * await client.request(1, new Uint8Array(0));
 * assert.equal(await notify(handle!, Uint8Array.of(1)), true);
 * await client.close();
 * await handle!.closed; // the server saw the connection end
 * assert.equal(await notify(handle!, Uint8Array.of(2)), false);
 * ```
 */
export class PushError extends WireframeBaseError {
  /** Why the push was refused. */
  readonly reason: PushFailure;

  /**
   * Create the error; `reason` sets the field of that name.
   *
   * @param message human-readable description; by default, what `reason` means
   */
  constructor(reason: PushFailure, message: string = describe(reason)) {
    super(`ERR_PUSH_${reason.toUpperCase().replace("-", "_")}`, message);
    this.reason = reason;
  }
}

function describe(reason: PushFailure): string {
  switch (reason) {
    case "full":
      return "the push queue is full";
    case "closed":
      return "the connection is closed";
    case "rate-limited":
      return "the connection's push rate limit is exhausted";
  }
}
