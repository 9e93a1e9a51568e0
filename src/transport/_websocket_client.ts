/**
 * The client side of the WebSocket transport, on the `WebSocket` global
 * (Deno, Bun, and Node ≥ 22 have one): `ws://host:port/path`, offering the
 * transport's subprotocols.
 *
 * @module
 */
import { webPort } from "./_websocket_deno.ts";
import { WebSocketByteStream } from "./_websocket_connection.ts";
import type { WebSocketSettings } from "./_websocket_options.ts";
import { ConnectionRefusedError, TransportError, UnsupportedRuntimeError } from "./errors.ts";
import type { Connection } from "./types.ts";

/** Open a WebSocket to `hostname:port` and resolve once it is open. */
export function connectWebSocket(
  hostname: string,
  port: number,
  settings: WebSocketSettings,
): Promise<Connection> {
  if (typeof globalThis.WebSocket !== "function") {
    return Promise.reject(new UnsupportedRuntimeError("this runtime has no WebSocket global"));
  }
  const host = hostname.includes(":") ? `[${hostname}]` : hostname;
  const url = `ws://${host}:${port}${settings.path}`;
  const socket = new WebSocket(url, [...settings.protocols]);
  socket.binaryType = "arraybuffer";
  return new Promise((resolve, reject) => {
    let conn: WebSocketByteStream | undefined;
    socket.onopen = () => {
      conn = new WebSocketByteStream(webPort(socket), {
        local: { transport: "tcp", hostname: "", port: 0 }, // the WebSocket API does not say
        remote: { transport: "tcp", hostname, port },
        protocol: socket.protocol,
      }, settings);
      resolve(conn);
    };
    socket.onmessage = (event) => conn?.onMessage(event.data);
    socket.onclose = (event) => {
      if (conn) {
        conn.onClose(event.code, event.reason);
        return;
      }
      // Closed before it opened: refused, or the handshake failed (404, 400...).
      reject(
        event.code === 1006
          ? new ConnectionRefusedError(`cannot open ${url}: refused or not a WebSocket endpoint`)
          : new TransportError("ERR_CONNECT", `cannot open ${url}: closed with ${event.code}`),
      );
    };
  });
}
