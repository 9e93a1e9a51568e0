/**
 * Typed keys for application data shared by every connection of an app.
 *
 * @module
 */
import { WireframeBaseError } from "../error.ts";

/**
 * A typed key for a value registered with `WireframeApp.appData()` and read
 * with `ctx.appData(key)`. Two keys with the same name are still distinct.
 */
export interface AppDataKey<T> {
  /** Name used in error messages. */
  readonly name: string;
  /** Phantom field that carries the value type; never set at runtime. */
  readonly __type?: T;
}

/**
 * Create a typed app-data key.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { appDataKey, WireframeApp, WireframeClient, WireframeServer } from "@wireframe/wireframe";
 *
 * const Greeting = appDataKey<string>("greeting");
 * const app = new WireframeApp()
 *   .appData(Greeting, "hello")
 *   .route(1, (_req, ctx) => new TextEncoder().encode(ctx.appData(Greeting)));
 *
 * await using server = new WireframeServer(app);
 * await using client = await WireframeClient.connect({ port: (await server.listen()).port });
 * const reply = await client.request(1, new Uint8Array(0));
 * assert.equal(new TextDecoder().decode(reply.payload), "hello");
 * ```
 */
export function appDataKey<T>(name: string): AppDataKey<T> {
  return Object.freeze({ name });
}

/** `ctx.appData(key)` was called for a key the app never registered. */
export class MissingAppDataError extends WireframeBaseError {
  /**
   * Create the error.
   *
   * @param name the key's name
   */
  constructor(name: string) {
    super("ERR_MISSING_APP_DATA", `no app data registered for key "${name}"`);
  }
}
