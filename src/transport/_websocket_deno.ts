/**
 * The WebSocket listener on Deno: `Deno.serve` (with `cert`/`key` for wss)
 * answers each upgrade request with `Deno.upgradeWebSocket`.
 *
 * Deno's `WebSocket` cannot pause reading, nor send a ping by hand: the
 * connection bounds what it queues (`maxBufferedBytes`), and the heartbeat
 * is Deno's own `idleTimeout`. `HttpServer.shutdown()` also closes the
 * WebSockets it upgraded, so `close()` stops handing out connections at
 * once (new upgrades get 503) and shuts the HTTP server down, releasing
 * the port, once the last connection it yielded has closed.
 *
 * @module
 */
import { QueuedListener } from "./_queued_listener.ts";
import type { ParsedListen } from "./_options.ts";
import { decideHandshake, refusal } from "./_websocket_handshake.ts";
import { WebSocketByteStream, type WebSocketPort } from "./_websocket_connection.ts";
import type { WebSocketSettings } from "./_websocket_options.ts";
import type { NetAddr } from "./types.ts";

/** How often a write re-reads `bufferedAmount` while Deno's buffer is over the mark. */
const DRAIN_POLL_MS = 2;
/** Bytes Deno may hold unsent before a write waits. */
const SEND_HIGH_WATER_MARK = 256 * 1024;

export class DenoWebSocketListener extends QueuedListener<WebSocketByteStream> {
  readonly addr: NetAddr;
  readonly #server: Deno.HttpServer<Deno.NetAddr>;
  readonly #settings: WebSocketSettings;
  readonly #live = new Set<WebSocketByteStream>();
  #stopping = false;

  constructor({ hostname, port, tls }: ParsedListen, settings: WebSocketSettings) {
    super();
    this.#settings = settings;
    this.#server = Deno.serve(
      { hostname, port, onListen: () => {}, ...tls },
      (request, info) => this.#handle(request, info.remoteAddr),
    );
    this.addr = {
      transport: "tcp",
      hostname: this.#server.addr.hostname,
      port: this.#server.addr.port,
    };
  }

  protected override stopAccepting(): void {
    this.#stopping = true;
    if (this.#live.size === 0) void this.#server.shutdown();
  }

  #handle(request: Request, remote: Deno.NetAddr): Response {
    if (this.#stopping) return refusal({ status: 503, message: "the server is shutting down" });
    const decision = decideHandshake({
      method: request.method,
      url: request.url,
      header: (name) => request.headers.get(name),
    }, this.#settings);
    if (!decision.upgrade) return refusal(decision);
    const idleTimeout = Math.ceil(this.#settings.heartbeatIntervalMs / 1000);
    const { socket, response } = Deno.upgradeWebSocket(request, { idleTimeout });
    // Set here rather than as `protocol`: Deno checks that option against the request's
    // list split at ", ", and clients such as ws send "a,b".
    if (decision.protocol !== undefined) {
      response.headers.set("sec-websocket-protocol", decision.protocol);
    }
    socket.binaryType = "arraybuffer";
    const conn = new WebSocketByteStream(denoPort(socket), {
      local: this.addr,
      remote: { transport: "tcp", hostname: remote.hostname, port: remote.port },
      protocol: decision.protocol ?? "",
    }, this.#settings);
    socket.onopen = () => {
      this.#live.add(conn);
      conn.closed.then(() => {
        this.#live.delete(conn);
        if (this.#stopping && this.#live.size === 0) void this.#server.shutdown();
      });
      this.accept(conn);
    };
    socket.onmessage = (event) => conn.onMessage(event.data);
    socket.onclose = (event) => conn.onClose(event.code, event.reason);
    return response;
  }
}

/** A {@link WebSocketPort} over a WebSocket of the web platform's API (Deno's, or a client's). */
export function webPort(socket: WebSocket): WebSocketPort {
  return {
    async send(bytes) {
      socket.send(bytes);
      // No drain event in this API: wait while the runtime holds too much unsent.
      while (socket.bufferedAmount > SEND_HIGH_WATER_MARK && socket.readyState === WebSocket.OPEN) {
        await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS));
      }
    },
    close(code, reason) {
      if (socket.readyState === WebSocket.CLOSING || socket.readyState === WebSocket.CLOSED) return;
      try {
        socket.close(code, reason);
      } catch {
        // The web API lets a script send only 1000 and 3000-4999.
        socket.close(1000, reason);
      }
    },
    ...pausable(socket),
  };
}

/** Bun's `WebSocket` global can pause reading (a non-standard extension); others cannot. */
function pausable(socket: WebSocket): Pick<WebSocketPort, "pause" | "resume"> {
  const extended = socket as WebSocket & { pause?: () => unknown; resume?: () => unknown };
  if (typeof extended.pause !== "function" || typeof extended.resume !== "function") return {};
  return { pause: () => void extended.pause!(), resume: () => void extended.resume!() };
}

const denoPort = webPort;
