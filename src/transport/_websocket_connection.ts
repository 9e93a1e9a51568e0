/**
 * A {@link Connection} over one WebSocket: each binary message received is
 * the next bytes of the readable, each chunk written goes out as one binary
 * message. A runtime adapter ({@link WebSocketPort}) sends, closes and
 * (where it can) pauses; it reports the socket's events to the connection.
 *
 * @module
 */
import { StreamConnection } from "./_stream_connection.ts";
import {
  ConnectionClosedError,
  ConnectionResetError,
  type TransportError,
  WebSocketError,
} from "./errors.ts";
import type { WebSocketSettings } from "./_websocket_options.ts";
import type { NetAddr, WebSocketConnection } from "./types.ts";

/** Bytes queued in the readable before reading pauses (where the runtime can pause). */
const READ_HIGH_WATER_MARK = 64 * 1024;

/** Close codes (RFC 6455 §7.4.1) the transport sends. */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  unsupportedData: 1003,
  policyViolation: 1008,
  messageTooBig: 1009,
} as const;

/** What a runtime's WebSocket offers the connection. */
export interface WebSocketPort {
  /**
   * Send one binary message; resolve once the runtime took it and has room
   * for more (its own buffer is under its limit). `bytes` may be kept: the
   * connection hands over a buffer of its own.
   */
  send(bytes: Uint8Array): Promise<void> | void;
  /** Start the closing handshake (or drop the socket, if it is not open). Idempotent. */
  close(code: number, reason: string): void;
  /** Drop the socket without a closing handshake, where the runtime can (else `close`). */
  terminate?(): void;
  /** Stop reading the socket (TCP back-pressure), where the runtime can. */
  pause?(): void;
  /** Read again after {@link pause}. */
  resume?(): void;
  /** Send a ping, where the runtime can (see `Heartbeat`). */
  ping?(): void;
}

/** A WebSocket connection: a byte stream, plus the subprotocol agreed on. */
export class WebSocketByteStream extends StreamConnection implements WebSocketConnection {
  override readonly localAddr: NetAddr;
  override readonly remoteAddr: NetAddr;
  /** The subprotocol agreed on in the handshake, `""` for none. */
  readonly protocol: string;
  /** A pong (or any message) arrived since the last heartbeat ping. */
  alive = true;

  readonly #port: WebSocketPort;
  readonly #settings: WebSocketSettings;
  #paused = false;
  /** The socket's close event arrived: nothing left to close. */
  #socketClosed = false;

  constructor(
    port: WebSocketPort,
    addrs: { local: NetAddr; remote: NetAddr; protocol: string },
    settings: WebSocketSettings,
  ) {
    super({ highWaterMark: READ_HIGH_WATER_MARK, size: (chunk) => chunk.byteLength });
    this.#port = port;
    this.#settings = settings;
    this.localAddr = addrs.local;
    this.remoteAddr = addrs.remote;
    this.protocol = addrs.protocol;
  }

  // --- socket events (called by the runtime adapter) ---

  /** A message arrived: binary is stream bytes, text is refused (1003). */
  onMessage(data: ArrayBuffer | ArrayBufferView | string): void {
    this.alive = true;
    if (this.readDone) return;
    if (typeof data === "string") {
      this.#refuse(CloseCode.unsupportedData, "text messages are not part of this byte stream");
      return;
    }
    const bytes = data instanceof ArrayBuffer
      ? new Uint8Array(data)
      : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    if (bytes.byteLength > this.#settings.maxPayload) {
      // Deno has no limit of its own; Bun and ws close before this.
      this.#refuse(
        CloseCode.messageTooBig,
        `message over maxPayload (${this.#settings.maxPayload})`,
      );
      return;
    }
    if (bytes.byteLength === 0) return;
    if (!this.push(bytes)) return;
    if (this.#port.pause) {
      this.#paused = true;
      this.#port.pause();
    } else if (this.#queued() > this.#settings.maxBufferedBytes) {
      this.#refuse(
        CloseCode.policyViolation,
        `over maxBufferedBytes (${this.#settings.maxBufferedBytes}) unread`,
      );
    }
  }

  /** A pong arrived (the heartbeat's answer). */
  onPong(): void {
    this.alive = true;
  }

  /** The socket closed, with the peer's close code (1005: none, 1006: no close frame). */
  onClose(code: number, reason: string): void {
    this.#socketClosed = true;
    if (this.released) return;
    if (code === CloseCode.normal || code === CloseCode.goingAway || code === 1005) {
      // A clean close ends the readable like a FIN; there is no half-open WebSocket, so
      // later writes fail.
      this.push(null);
      this.terminate(new ConnectionResetError("the WebSocket was closed by the peer"));
      return;
    }
    this.terminate(
      new WebSocketError(code, `the WebSocket closed with ${code}${reason ? ` (${reason})` : ""}`),
    );
  }

  /** The heartbeat's ping found the previous one unanswered. */
  missedPong(): void {
    this.#refuse(CloseCode.goingAway, "no pong to the last ping");
  }

  // --- stream plumbing ---

  protected override pull(): void {
    if (!this.#paused || this.released || this.readDone) return;
    this.#paused = false;
    this.#port.resume?.();
  }

  protected override cancelRead(): void {
    // Nobody reads any more: keep the peer from sending into a queue nobody drains.
    if (this.#port.pause && !this.#paused) {
      this.#paused = true;
      this.#port.pause();
    }
  }

  protected override async writeChunk(chunk: Uint8Array): Promise<void> {
    // A copy: write() promises the caller its buffer back, and runtimes send later.
    // A send still waiting when the connection ends (a peer that stopped reading
    // never drains) ends with it.
    await Promise.race([this.#port.send(chunk.slice()), this.closed]);
    if (this.failure) throw this.failure;
  }

  protected override sendEnd(): void {
    // No half-close in WebSocket: a Close frame. The peer may still send until it answers.
    this.#port.close(CloseCode.normal, "");
  }

  protected override releaseResource(failure: TransportError | undefined): void {
    if (this.#socketClosed) return;
    this.#socketClosed = true;
    if (failure instanceof WebSocketError) {
      this.#port.close(failure.closeCode, "");
    } else if (failure instanceof ConnectionClosedError && this.#port.terminate) {
      // A local close() is abortive: no waiting for a peer that may never answer.
      this.#port.terminate();
    } else {
      this.#port.close(CloseCode.normal, "");
    }
  }

  /** Bytes in the readable's queue (its high-water mark less what it still wants). */
  #queued(): number {
    return READ_HIGH_WATER_MARK - this.desiredSize;
  }

  #refuse(code: number, reason: string): void {
    this.terminate(new WebSocketError(code, `closed with ${code}: ${reason}`));
  }
}
