/**
 * `WireframeProtocol`: one object for the protocol-specific hooks
 * (roadmap 1.6, 2.1), registered with `app.withProtocol(protocol)`.
 *
 * @module
 */
import type { Envelope } from "../codec/envelope.ts";
import type { PushHandle } from "../push/push_handle.ts";
import type { HandlerResult, ResponseFrame } from "../response.ts";
import type { ConnectionInfo, Context } from "./context.ts";
import type { PhaseViolationError } from "./phases.ts";

/**
 * Protocol hooks; every one is optional. A hook that throws is handled like a
 * handler fault: logged and counted; for `beforeSend` on a response frame it
 * also ends that response.
 *
 * @example A protocol that stamps a sequence number and ends streams with a terminator
 * ```ts
 * import assert from "node:assert/strict";
 * import {
 *   WireframeApp,
 *   WireframeClient,
 *   type WireframeProtocol,
 *   WireframeServer,
 * } from "@wireframe/wireframe";
 *
 * const QUERY = 3, ROW = 100, END = 0xffff;
 * let commands = 0;
 * const protocol: WireframeProtocol = {
 *   beforeSend: (frame) => (frame.id === QUERY ? { ...frame, id: ROW } : frame), // rewrite any outgoing frame
 *   streamEndFrame: () => ({ id: END, payload: new Uint8Array(0) }), // ends every stream
 *   onCommandEnd: () => void commands++,
 *   handleError: (error) => console.warn("request failed", error),
 * };
 * const app = new WireframeApp().withProtocol(protocol).route(QUERY, async function* () {
 *   yield Uint8Array.of(1);
 *   yield Uint8Array.of(2);
 * });
 *
 * const server = new WireframeServer(app);
 * const client = await WireframeClient.connect({ port: (await server.listen()).port });
 * const frames = client.stream(QUERY, new Uint8Array(0), { isEnd: (frame) => frame.id === END });
 * assert.deepEqual((await Array.fromAsync(frames)).map((frame) => frame.id), [ROW, ROW, END]);
 * await client.close();
 * await server.shutdown();
 * assert.equal(commands, 1);
 * ```
 */
export interface WireframeProtocol<S = undefined> {
  /** Runs once per connection, before the app's setup hook, with the connection's push handle. */
  onConnectionSetup?(push: PushHandle, info: ConnectionInfo): void | Promise<void>;
  /**
   * What the server says first (a MySQL handshake, an SMTP `220` banner):
   * frames sent on accept, after the preamble and the setup hooks and before
   * any frame is read, so no response and no push from elsewhere can go
   * before them (the connection is not in the session registry yet); only
   * pushes the setup hooks make themselves do. Anything a handler may
   * return: a bare payload gets message id 0 and no correlation id;
   * `{ id, payload }` chooses. A greeting that throws or cannot be sent ends
   * the connection (logged at error, counted in `connectionErrors`; the
   * teardown hook still runs).
   */
  greeting?(ctx: Context<S>): HandlerResult | Promise<HandlerResult>;
  /**
   * Last frames before the server closes the connection because the peer
   * was too slow (`ConnectionTimeoutError`) or broke the framing or the
   * envelope (`CodecError`, `EnvelopeError`, `FragmentError`): e.g. a text
   * protocol's `-ERR line too long`. Anything a handler may return; a bare
   * payload gets message id 0 and no correlation id. A throw is logged and
   * counted; the connection closes either way.
   */
  closingFrames?(error: unknown, ctx: Context<S>): HandlerResult | Promise<HandlerResult>;
  /**
   * Answers a frame the connection's phase does not allow (see
   * `app.phases()`), e.g. MQTT's CONNACK "not authorized" or MySQL's error
   * packet: anything a handler may return, with the frame's ids inherited.
   * Then the connection closes. Without this hook it closes at once.
   */
  phaseViolation?(
    violation: PhaseViolationError,
    request: Envelope,
    ctx: Context<S>,
  ): HandlerResult | Promise<HandlerResult>;
  /** Rewrites every outgoing frame — responses, pushes and terminators — just before encoding. */
  beforeSend?(frame: Envelope, ctx: Context<S>): Envelope | void;
  /** Runs exactly once after each request's response has ended (never for pushes). */
  onCommandEnd?(ctx: Context<S>): void | Promise<void>;
  /**
   * Handles a request-level fault: a `WireframeError` of kind `protocol` (or
   * any other error) thrown by a handler, middleware or response stream.
   * No terminator is sent; `onCommandEnd` runs next; the connection carries on.
   */
  handleError?(error: unknown, ctx: Context<S>): void | Promise<void>;
  /** At a stream response's normal end: a terminator frame to send, or nothing. */
  streamEndFrame?(ctx: Context<S>): ResponseFrame | undefined;
}
