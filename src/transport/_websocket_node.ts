/**
 * The WebSocket listener on Node.js: a `node:http` server (`node:https` for
 * wss) whose `upgrade` requests the `ws` package (npm) completes. Reading
 * pauses (`ws.pause()`) while the app is behind, a write resolves on
 * `send()`'s callback, the heartbeat pings by hand, and `maxPayload` is ws's
 * own (1009). `server.close()` stops listening and leaves upgraded sockets
 * open.
 *
 * @module
 */
import http from "node:http";
import https from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { type WebSocket, WebSocketServer } from "ws";
import { QueuedListener } from "./_queued_listener.ts";
import type { ParsedListen } from "./_options.ts";
import { decideHandshake } from "./_websocket_handshake.ts";
import { WebSocketByteStream, type WebSocketPort } from "./_websocket_connection.ts";
import { Heartbeat } from "./_websocket_heartbeat.ts";
import type { WebSocketSettings } from "./_websocket_options.ts";
import type { NetAddr } from "./types.ts";

export class NodeWebSocketListener extends QueuedListener<WebSocketByteStream> {
  readonly addr: NetAddr;
  readonly #server: http.Server;
  readonly #heartbeat: Heartbeat;

  private constructor(
    server: http.Server,
    addr: NetAddr,
    settings: WebSocketSettings,
  ) {
    super();
    this.#server = server;
    this.addr = addr;
    const sockets = new WeakMap<WebSocketByteStream, WebSocket>();
    this.#heartbeat = new Heartbeat(
      settings.heartbeatIntervalMs,
      (conn) => sockets.get(conn)?.ping(),
    );
    const protocols = new WeakMap<http.IncomingMessage, string>();
    const wss = new WebSocketServer({
      noServer: true,
      maxPayload: settings.maxPayload,
      clientTracking: false,
      handleProtocols: (_offered, request) => protocols.get(request) ?? false,
    });
    server.on("error", () => {}); // a failed accept is not the listener's failure
    server.on("request", (_request, response: http.ServerResponse) => {
      response.writeHead(426, { upgrade: "websocket" }).end(
        "this endpoint speaks WebSocket only\n",
      );
    });
    server.on("upgrade", (request: http.IncomingMessage, socket: Socket, head: Buffer) => {
      socket.on("error", () => socket.destroy());
      const decision = decideHandshake({
        method: request.method ?? "GET",
        url: request.url ?? "/",
        header: (name) => {
          const value = request.headers[name];
          return Array.isArray(value) ? value.join(",") : value;
        },
      }, settings);
      if (!decision.upgrade) {
        const reason = http.STATUS_CODES[decision.status] ?? "Error";
        socket.end(
          `HTTP/1.1 ${decision.status} ${reason}\r\nconnection: close\r\n` +
            `content-type: text/plain\r\ncontent-length: ${decision.message.length + 1}\r\n\r\n` +
            `${decision.message}\n`,
        );
        return;
      }
      if (decision.protocol !== undefined) protocols.set(request, decision.protocol);
      wss.handleUpgrade(request, socket, head, (ws) => {
        const conn = new WebSocketByteStream(nodePort(ws), {
          local: this.addr,
          remote: {
            transport: "tcp",
            hostname: request.socket.remoteAddress ?? "",
            port: request.socket.remotePort ?? 0,
          },
          protocol: ws.protocol,
        }, settings);
        sockets.set(conn, ws);
        ws.binaryType = "nodebuffer";
        ws.on(
          "message",
          (data: Buffer, isBinary: boolean) =>
            conn.onMessage(isBinary ? data : data.toString("utf8")),
        );
        ws.on("pong", () => conn.onPong());
        ws.on("close", (code: number, reason: Buffer) => conn.onClose(code, reason.toString()));
        ws.on("error", () => {}); // `close` follows, with the code
        this.#heartbeat.add(conn);
        this.accept(conn);
      });
    });
  }

  /** Listen now; rejects with Node's error (e.g. EADDRINUSE). */
  static async listen(
    parsed: ParsedListen,
    settings: WebSocketSettings,
  ): Promise<NodeWebSocketListener> {
    const { hostname, port, tls } = parsed;
    const server = tls ? https.createServer({ cert: tls.cert, key: tls.key }) : http.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host: hostname, port }, () => {
        server.off("error", reject);
        resolve();
      });
    });
    const bound = server.address() as AddressInfo;
    const addr: NetAddr = { transport: "tcp", hostname: bound.address, port: bound.port };
    return new NodeWebSocketListener(server, addr, settings);
  }

  protected override stopAccepting(): void {
    this.#server.close();
    this.#heartbeat.stop();
  }
}

function nodePort(ws: WebSocket): WebSocketPort {
  return {
    send: (bytes) =>
      new Promise<void>((resolve) => {
        // An error here is the socket's: its `close` event fails the connection.
        ws.send(bytes, { binary: true }, () => resolve());
      }),
    close: (code, reason) => {
      if (ws.readyState === ws.CLOSING || ws.readyState === ws.CLOSED) return;
      ws.close(code, reason);
    },
    terminate: () => ws.terminate(),
    pause: () => ws.pause(),
    resume: () => ws.resume(),
  };
}
