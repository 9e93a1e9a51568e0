/**
 * `Heartbeat`: one timer per listener pings every connection each interval
 * and closes those that did not answer the previous ping (the `ws`
 * package's documented pattern, without a timer per connection).
 *
 * @module
 */
import type { WebSocketByteStream } from "./_websocket_connection.ts";

/** Pings a set of connections every `intervalMs`; a no-op when 0. */
export class Heartbeat {
  readonly #connections = new Set<WebSocketByteStream>();
  readonly #ping: (conn: WebSocketByteStream) => void;
  #timer: ReturnType<typeof setInterval> | undefined;
  #stopping = false;

  /**
   * @param intervalMs time between pings; 0 = no heartbeat
   * @param ping sends one connection a ping
   */
  constructor(intervalMs: number, ping: (conn: WebSocketByteStream) => void) {
    this.#ping = ping;
    if (intervalMs > 0) this.#timer = setInterval(() => this.#beat(), intervalMs);
  }

  /** Watch `conn` until it closes. */
  add(conn: WebSocketByteStream): void {
    if (this.#timer === undefined) return;
    this.#connections.add(conn);
    conn.closed.then(() => {
      this.#connections.delete(conn);
      if (this.#stopping && this.#connections.size === 0) this.#clear();
    });
  }

  /** No more connections will be added: the timer stops once the last one has closed. */
  stop(): void {
    this.#stopping = true;
    if (this.#connections.size === 0) this.#clear();
  }

  #clear(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #beat(): void {
    for (const conn of this.#connections) {
      if (!conn.alive) {
        conn.missedPong();
        continue;
      }
      conn.alive = false;
      this.#ping(conn);
    }
  }
}
