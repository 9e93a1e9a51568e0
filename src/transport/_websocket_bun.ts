/**
 * The WebSocket listener on Bun: `Bun.serve` (with `tls` for wss) upgrades
 * each request with `server.upgrade()`; its `websocket` handlers drive the
 * connections. Reading pauses (`ws.pause()`) while the app is behind,
 * `send()` returning -1 makes a write wait for `drain`, and the heartbeat
 * pings by hand (Bun's own `sendPings` and `idleTimeout` are off).
 * `server.stop(false)` stops listening and leaves upgraded sockets open.
 *
 * @module
 */
import { QueuedListener } from "./_queued_listener.ts";
import type { ParsedListen } from "./_options.ts";
import { decideHandshake, refusal } from "./_websocket_handshake.ts";
import { WebSocketByteStream, type WebSocketPort } from "./_websocket_connection.ts";
import { Heartbeat } from "./_websocket_heartbeat.ts";
import type { WebSocketSettings } from "./_websocket_options.ts";
import { UnsupportedRuntimeError } from "./errors.ts";
import type { NetAddr } from "./types.ts";

/** The slice of Bun's `ServerWebSocket` used here. */
interface BunServerWebSocket {
  data: { conn?: WebSocketByteStream; remote: NetAddr; protocol: string };
  send(data: Uint8Array, compress?: boolean): number;
  close(code?: number, reason?: string): void;
  ping(): number;
  terminate(): void;
  pause(): void;
  resume(): void;
}

interface BunHttpServer {
  readonly hostname: string;
  readonly port: number;
  upgrade(request: Request, options: { headers?: HeadersInit; data: unknown }): boolean;
  requestIP(request: Request): { address: string; port: number } | null;
  stop(closeActiveConnections?: boolean): void;
}

interface BunServe {
  serve(options: {
    hostname: string;
    port: number;
    tls?: { cert: string; key: string };
    fetch(request: Request, server: BunHttpServer): Response | undefined;
    websocket: {
      maxPayloadLength: number;
      idleTimeout: number;
      sendPings: boolean;
      backpressureLimit: number;
      closeOnBackpressureLimit: boolean;
      open(ws: BunServerWebSocket): void;
      message(ws: BunServerWebSocket, message: string | Uint8Array): void;
      close(ws: BunServerWebSocket, code: number, reason: string): void;
      drain(ws: BunServerWebSocket): void;
      pong(ws: BunServerWebSocket): void;
    };
  }): BunHttpServer;
}

/** Most bytes Bun may hold for a socket; we wait for `drain` long before (send returns -1). */
const BACKPRESSURE_LIMIT = 2 ** 32 - 1;

export class BunWebSocketListener extends QueuedListener<WebSocketByteStream> {
  readonly addr: NetAddr;
  readonly #server: BunHttpServer;
  readonly #heartbeat: Heartbeat;
  /** Writes waiting for their socket's `drain`. */
  readonly #drains = new WeakMap<BunServerWebSocket, () => void>();

  constructor({ hostname, port, tls }: ParsedListen, settings: WebSocketSettings) {
    super();
    const bun = (globalThis as { Bun?: BunServe }).Bun;
    if (bun === undefined) throw new UnsupportedRuntimeError("Bun.serve needs the Bun runtime");
    this.#heartbeat = new Heartbeat(settings.heartbeatIntervalMs, (conn) => ping(conn));
    const sockets = new WeakMap<WebSocketByteStream, BunServerWebSocket>();
    const ping = (conn: WebSocketByteStream) => sockets.get(conn)?.ping();
    this.#server = bun.serve({
      hostname,
      port,
      ...tls && { tls },
      fetch: (request, server) => {
        const decision = decideHandshake({
          method: request.method,
          url: request.url,
          header: (name) => request.headers.get(name),
        }, settings);
        if (!decision.upgrade) return refusal(decision);
        const ip = server.requestIP(request);
        const remote: NetAddr = {
          transport: "tcp",
          hostname: ip?.address ?? "",
          port: ip?.port ?? 0,
        };
        const protocol = decision.protocol ?? "";
        const headers = protocol === "" ? undefined : { "sec-websocket-protocol": protocol };
        if (server.upgrade(request, { headers, data: { remote, protocol } })) return undefined;
        return refusal({ status: 400, message: "not a valid WebSocket upgrade" });
      },
      websocket: {
        maxPayloadLength: settings.maxPayload,
        idleTimeout: 0,
        sendPings: false,
        backpressureLimit: BACKPRESSURE_LIMIT,
        closeOnBackpressureLimit: false,
        open: (ws) => {
          const conn = new WebSocketByteStream(this.#port(ws), {
            local: this.addr,
            remote: ws.data.remote,
            protocol: ws.data.protocol,
          }, settings);
          ws.data.conn = conn;
          sockets.set(conn, ws);
          this.#heartbeat.add(conn);
          this.accept(conn);
        },
        message: (ws, message) => ws.data.conn?.onMessage(message),
        close: (ws, code, reason) => {
          this.#drains.get(ws)?.();
          ws.data.conn?.onClose(code, reason);
        },
        drain: (ws) => this.#drains.get(ws)?.(),
        pong: (ws) => ws.data.conn?.onPong(),
      },
    });
    this.addr = { transport: "tcp", hostname: this.#server.hostname, port: this.#server.port };
  }

  protected override stopAccepting(): void {
    this.#server.stop(false);
    this.#heartbeat.stop();
  }

  #port(ws: BunServerWebSocket): WebSocketPort {
    return {
      send: (bytes) => {
        // > 0: sent; -1: queued in Bun, wait for drain; 0: dropped (the socket is closed).
        if (ws.send(bytes, false) !== -1) return;
        return new Promise<void>((resolve) =>
          this.#drains.set(ws, () => {
            this.#drains.delete(ws);
            resolve();
          })
        );
      },
      close: (code, reason) => ws.close(code, reason),
      terminate: () => ws.terminate(),
      pause: () => ws.pause(),
      resume: () => ws.resume(),
    };
  }
}
