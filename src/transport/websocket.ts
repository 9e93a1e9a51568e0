/**
 * The WebSocket transport: a {@link Transport} whose connections are
 * WebSockets, so any app runs over it unchanged — each binary message
 * received is the next bytes of the connection's stream, each write goes out
 * as one binary message (a message may hold several frames, or part of one,
 * as MQTT over WebSocket allows). A browser, or MQTT.js over `ws://`, can
 * reach a Wireframe server this way.
 *
 * - Servers: `Deno.serve` + `Deno.upgradeWebSocket` on Deno, `Bun.serve`'s
 *   `websocket` on Bun, `node:http` + the `ws` package on Node.js (install
 *   `ws` next to your app there). With `listen({ tls })` they serve `wss://`
 *   only.
 * - Clients: the runtime's `WebSocket` global (`ws://` only).
 * - Subprotocols: see {@link WebSocketTransportOptions.protocols}; the one
 *   agreed on is `protocol` of a {@link WebSocketConnection} (what the
 *   listener yields, cast from `Connection`).
 * - Heartbeat, `maxPayload`, back-pressure: see
 *   {@link WebSocketTransportOptions} and docs/transports.md (what each
 *   runtime can and cannot do).
 *
 * There is no half-close in WebSocket: `writable.close()` sends a Close
 * frame; the readable still delivers what the peer sends until it answers
 * with its own, then ends. A peer's normal close ends the readable like a
 * FIN; any other close code errors it with {@link WebSocketError}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { WireframeApp, WireframeClient, WireframeServer } from "@wireframe/wireframe";
 * import { websocketTransport } from "@wireframe/wireframe/websocket";
 *
 * // The same app, over WebSocket instead of TCP.
 * const transport = websocketTransport({ path: "/wire", protocols: ["wireframe"] });
 * const app = new WireframeApp().route(1, (req) => req.payload); // echo
 * await using server = new WireframeServer(app, { transport });
 * const { port } = await server.listen({ port: 0 });
 * await using client = await WireframeClient.connect({ port, transport });
 * const reply = await client.request(1, new TextEncoder().encode("over ws"));
 * assert.equal(new TextDecoder().decode(reply.payload), "over ws");
 * ```
 *
 * @module
 */
import { promiseTry } from "../_internal/promise_try.ts";
import { type ParsedListen, parseListen, parsePlainConnect } from "./_options.ts";
import { listenError } from "./_runtime_errors.ts";
import { connectWebSocket } from "./_websocket_client.ts";
import { parseWebSocketOptions, type WebSocketTransportOptions } from "./_websocket_options.ts";
import { UnsupportedRuntimeError } from "./errors.ts";
import type { Connection, ConnectOptions, Listener, ListenOptions, Transport } from "./types.ts";

export * from "./_public.ts";
export type { WebSocketTransportOptions } from "./_websocket_options.ts";

/**
 * Make a WebSocket {@link Transport} with these options (validated now: a
 * bad one throws `ConfigError`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { websocketTransport } from "@wireframe/wireframe/websocket";
 *
 * const transport = websocketTransport({ protocols: ["mqtt"], heartbeatIntervalMs: 10_000 });
 * await using listener = await transport.listen({ port: 0 }); // ws://127.0.0.1:PORT/
 * const client = await transport.connect({ port: listener.addr.port });
 * for await (const server of listener) {
 *   await server.writable.getWriter().write(new TextEncoder().encode("hello")); // one message
 *   break;
 * }
 * const reader = client.readable.getReader();
 * assert.equal(new TextDecoder().decode((await reader.read()).value), "hello");
 * client.close();
 * ```
 */
export function websocketTransport(options: WebSocketTransportOptions = {}): Transport {
  const settings = parseWebSocketOptions(options);
  const listenerFor = async (): Promise<(parsed: ParsedListen) => Listener | Promise<Listener>> => {
    if ("Deno" in globalThis) {
      const { DenoWebSocketListener } = await import("./_websocket_deno.ts");
      return (parsed) => new DenoWebSocketListener(parsed, settings);
    }
    if ("Bun" in globalThis) {
      const { BunWebSocketListener } = await import("./_websocket_bun.ts");
      return (parsed) => new BunWebSocketListener(parsed, settings);
    }
    if (isNode()) {
      const { NodeWebSocketListener } = await import("./_websocket_node.ts");
      return (parsed) => NodeWebSocketListener.listen(parsed, settings);
    }
    throw new UnsupportedRuntimeError("no WebSocket server for this runtime");
  };
  return {
    listen: (listenOptions: ListenOptions): Promise<Listener> =>
      promiseTry(async () => {
        const parsed = parseListen("websocketTransport.listen", listenOptions);
        const make = await listenerFor();
        try {
          return await make(parsed);
        } catch (err) {
          const { hostname, port } = parsed;
          const failure = { hostname, port, cause: err, detail: String(err) };
          throw listenError(failure, isAddressInUse(err));
        }
      }),
    connect: (connectOptions: ConnectOptions): Promise<Connection> =>
      promiseTry(() => {
        const { hostname, port } = parsePlainConnect("websocketTransport.connect", connectOptions);
        return connectWebSocket(hostname, port, settings);
      }),
  };
}

function isAddressInUse(err: unknown): boolean {
  if (typeof err !== "object" || err === null) return false;
  return ("code" in err && err.code === "EADDRINUSE") ||
    ("name" in err && err.name === "AddrInUse");
}

function isNode(): boolean {
  const process = (globalThis as { process?: { versions?: { node?: unknown } } }).process;
  return typeof process?.versions?.node === "string";
}
