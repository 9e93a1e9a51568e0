/**
 * `WireframeClient`: the client side of a Wireframe protocol — requests
 * matched to responses by correlation id, streamed responses, and pushes.
 *
 * @module
 */
import { z } from "zod";
import { AsyncQueue } from "../_internal/async_queue.ts";
import { intInRange, parseOptions } from "../_internal/options.ts";
import { defaultSerializer, type Envelope, type Serializer } from "../codec/envelope.ts";
import { type FrameCodecOrOptions, toFrameCodec } from "../codec/to_frame_codec.ts";
import type { FrameCodec } from "../codec/types.ts";
import { ClientTelemetry, type TelemetryOptions } from "../observe/telemetry.ts";
import { FrameWriter } from "../wire/frame_writer.ts";
import { LoopBudget } from "../_internal/fairness.ts";
import { InboundMessages } from "../wire/inbound_messages.ts";
import {
  connectionFragmentation,
  createFragmenter,
  type FragmentationSpec,
  fragmentationSpec,
} from "../wire/fragmentation_spec.ts";
import type { ReassemblyOptions } from "../fragment/options.ts";
import type { FragmentStrategy } from "../fragment/types.ts";
import { runtimeTransport } from "../transport/runtime.ts";
import { type ByteReader, openByteIo } from "../transport/_byte_io.ts";
import type {
  Connection,
  ConnectOptions,
  NetAddr,
  TlsConnectOptions,
  Transport,
} from "../transport/types.ts";
import { ClientClosedError, ConnectionLostError, CorrelationMismatchError } from "./errors.ts";
import { CorrelationTable, type PendingResponse } from "./correlation_table.ts";

/** Options of {@link WireframeClient.connect}. */
export interface ClientOptions {
  /** Server host; default `"127.0.0.1"`. */
  hostname?: string;
  /** Server port. */
  port: number;
  /** Transport; default: the running runtime's TCP transport. */
  transport?: Transport;
  /**
   * Speak TLS: the server's certificate must chain to `ca` (default: the
   * runtime's roots) and name `serverName` (default: `hostname`); otherwise
   * `connect()` rejects with `TlsError`.
   */
  tls?: TlsConnectOptions;
  /** Frame codec, or options of the default length-delimited codec. */
  codec?: FrameCodecOrOptions;
  /** Envelope format; default: DESIGN.md §5. */
  serializer?: Serializer;
  /** Raw bytes sent once before any frame (the server's preamble). */
  preamble?: Uint8Array;
  /** Fragment and re-assemble messages as the server does (`app.fragmentation(...)`). */
  fragmentation?: { strategy: FragmentStrategy; limits?: ReassemblyOptions };
  /** Frames buffered per stream and for pushes before reading pauses. Default 1024. */
  bufferSize?: number;
  /** How long `close()` waits for outstanding responses, in ms. Default 5000. */
  closeTimeoutMs?: number;
  /**
   * Where `request()`'s CLIENT spans go (default: the tracer provider
   * registered with `@opentelemetry/api`; none costs nothing).
   */
  telemetry?: TelemetryOptions;
}

/** Options of a single request. */
export interface RequestOptions {
  /** Abort waiting (e.g. `AbortSignal.timeout(1000)`); rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** Options of {@link WireframeClient.stream}. */
export interface StreamOptions extends RequestOptions {
  /** Returns true for the last frame of the stream (it is still yielded). */
  isEnd?: (frame: Envelope) => boolean;
}

const optionsSchema = z.object({
  hostname: z.string({ error: "must be a hostname string" }).default("127.0.0.1"),
  port: intInRange(0, 65_535),
  bufferSize: intInRange(1, 1_000_000).default(1024),
  closeTimeoutMs: intInRange(0, 3_600_000).default(5_000),
});

/**
 * A connection to a Wireframe server. Correlation ids start at 1; each
 * request gets the next one and its response is the frame carrying it.
 * Frames without a correlation id are pushes, read with `pushes()`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { WireframeApp, WireframeClient, WireframeServer } from "@wireframe/wireframe";
 *
 * await using server = new WireframeServer(new WireframeApp().route(1, (req) => req.payload));
 * const { port } = await server.listen({ port: 0 });
 *
 * const client = await WireframeClient.connect({ hostname: "127.0.0.1", port });
 * const reply = await client.request(1, new TextEncoder().encode("hi"), {
 *   signal: AbortSignal.timeout(1000),
 * });
 * assert.equal(new TextDecoder().decode(reply.payload), "hi");
 * assert.equal(reply.correlationId, 1n); // the first request's
 * await client.close();
 * ```
 */
export class WireframeClient {
  /** Resolves when the connection has ended. */
  readonly closed: Promise<void>;
  readonly #conn: Connection;
  readonly #codec: FrameCodec;
  readonly #serializer: Serializer;
  readonly #out: FrameWriter;
  /** The connection's read side, opened with the writer the FrameWriter holds. */
  readonly #reader: ByteReader;
  readonly #table: CorrelationTable;
  readonly #pushes: AsyncQueue<Envelope>;
  readonly #bufferSize: number;
  readonly #closeTimeoutMs: number;
  #nextCorrelation = 1n;
  #closing = false;
  /** Set once the read loop has ended: later requests fail with it instead of waiting forever. */
  #lost: ConnectionLostError | undefined;
  /** Why the client broke the connection off itself (a failed write, a re-assembly timeout). */
  #broken: { error: unknown } | undefined;
  readonly #fragmentation: FragmentationSpec | undefined;
  readonly #telemetry: ClientTelemetry;

  private constructor(
    conn: Connection,
    options: z.output<typeof optionsSchema>,
    codec: FrameCodec,
    serializer: Serializer,
    fragmentation: FragmentationSpec | undefined,
    telemetry: TelemetryOptions | undefined,
  ) {
    this.#conn = conn;
    this.#telemetry = new ClientTelemetry(conn.remoteAddr, telemetry);
    this.#fragmentation = connectionFragmentation(fragmentation);
    this.#codec = codec;
    this.#serializer = serializer;
    this.#bufferSize = options.bufferSize;
    this.#closeTimeoutMs = options.closeTimeoutMs;
    const { reader, writer } = openByteIo(conn);
    this.#reader = reader;
    // A write that fails leaves nothing to wait for: requests already sent
    // would otherwise hang until the server happens to close its side too.
    writer.closed.catch((error: unknown) => this.#breakOff(error));
    this.#out = new FrameWriter({
      writer,
      codec,
      serializer,
      fragmenter: this.#fragmentation && createFragmenter(this.#fragmentation),
    });
    this.#table = new CorrelationTable();
    this.#pushes = new AsyncQueue(options.bufferSize);
    this.closed = this.#readLoop();
  }

  /**
   * Connect to a server.
   * @throws {ConfigError} for an invalid option; a transport error if the connection fails
   */
  static async connect(options: ClientOptions): Promise<WireframeClient> {
    const parsed = parseOptions("WireframeClient", optionsSchema, options);
    const codec = toFrameCodec(options.codec);
    const fragmentation = options.fragmentation &&
      fragmentationSpec(
        "WireframeClient",
        options.fragmentation.strategy,
        options.fragmentation.limits,
      );
    const transport = options.transport ?? await runtimeTransport();
    const where: ConnectOptions = { hostname: parsed.hostname, port: parsed.port };
    if (options.tls !== undefined) where.tls = options.tls;
    const conn = await transport.connect(where);
    const client = new WireframeClient(
      conn,
      parsed,
      codec,
      options.serializer ?? defaultSerializer,
      fragmentation,
      options.telemetry,
    );
    if (options.preamble) await client.#out.writeRaw(options.preamble);
    return client;
  }

  /** The server's address. */
  get remoteAddr(): NetAddr {
    return this.#conn.remoteAddr;
  }

  /**
   * Send a request and resolve with the first response frame carrying its
   * correlation id. A request that cannot be encoded is not sent: it rejects
   * with the encoder's error and the connection stays usable.
   * @throws {ClientClosedError} after `close()`
   * @throws {EnvelopeError} if the default serializer cannot encode the
   *   envelope (an `id` that is not a u32, a `payload` that is not a `Uint8Array`)
   * @throws {FrameTooLargeError} if the frame is over the codec's `maxFrameLength`
   * @throws {MessageTooLargeError} with fragmentation, if the message is over
   *   the fragmenter's `maxMessageSize`
   * @throws {ConnectionLostError} if the connection ends (or a write to it
   *   fails) before the response arrives
   * @throws {CorrelationMismatchError} if the server answers out of turn
   */
  async request(id: number, payload: Uint8Array, options: RequestOptions = {}): Promise<Envelope> {
    if (this.#closing) throw new ClientClosedError();
    const correlationId = this.#nextCorrelation;
    const sent = this.#send({ id, correlationId, payload });
    this.#nextCorrelation++;
    const response = this.#table.expectOne(correlationId, options.signal);
    if (sent) this.#failIfUnsent(sent, correlationId);
    const span = this.#telemetry.request(id, correlationId);
    if (span === undefined) return await response;
    try {
      const answer = await response;
      ClientTelemetry.end(span);
      return answer;
    } catch (error) {
      ClientTelemetry.end(span, error);
      throw error;
    }
  }

  /**
   * Send a request and iterate every response frame carrying its correlation
   * id, until `isEnd` says so, the signal aborts, or the connection ends.
   * Breaking out of the loop abandons the rest. A request that cannot be
   * encoded is not sent: the first `next()` rejects with the encoder's error
   * (as {@link WireframeClient.request} lists) and the connection stays usable.
   * @throws {ClientClosedError} at once, after `close()`
   */
  stream(id: number, payload: Uint8Array, options: StreamOptions = {}): AsyncIterable<Envelope> {
    if (this.#closing) throw new ClientClosedError();
    const correlationId = this.#nextCorrelation;
    let sent: Promise<void> | undefined;
    try {
      sent = this.#send({ id, correlationId, payload });
    } catch (error) {
      const failed = new AsyncQueue<Envelope>(1);
      failed.fail(error);
      return iterate(failed);
    }
    this.#nextCorrelation++;
    const queue = this.#table.expectMany(correlationId, this.#bufferSize, options);
    if (sent) this.#failIfUnsent(sent, correlationId);
    return iterate(queue);
  }

  /**
   * Send a frame without waiting for any response (no correlation id unless
   * given). Resolves once the frame is queued and the writer has room.
   * @throws {ClientClosedError} after `close()`
   * @throws {EnvelopeError | FrameTooLargeError | MessageTooLargeError} if the
   *   frame cannot be encoded, as for {@link WireframeClient.request} (nothing
   *   is sent; the connection stays usable)
   * @throws {ConnectionLostError} if the connection has ended or a write to it failed
   */
  async send(
    id: number,
    payload: Uint8Array,
    options: { correlationId?: bigint } = {},
  ): Promise<void> {
    if (this.#closing) throw new ClientClosedError();
    const sent = this.#send({ id, correlationId: options.correlationId, payload });
    if (sent) await sent;
  }

  /** Unsolicited frames (no correlation id) in arrival order; ends with the connection. */
  pushes(): AsyncIterable<Envelope> {
    return this.#pushes;
  }

  /**
   * Stop sending, wait up to `closeTimeoutMs` for outstanding responses, send
   * FIN, wait (again up to `closeTimeoutMs`) for the server to close its side,
   * then close the connection. Requests still waiting reject with
   * {@link ConnectionLostError}.
   */
  async close(): Promise<void> {
    if (!this.#closing) {
      this.#closing = true;
      try {
        await this.#table.idle(this.#closeTimeoutMs);
        await this.#out.close();
        // Lingering close: wait for the server's EOF so closing cannot reset
        // away bytes it is still sending us; bounded by closeTimeoutMs.
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([
          this.closed,
          new Promise((resolve) => (timer = setTimeout(resolve, this.#closeTimeoutMs))),
        ]);
        clearTimeout(timer);
      } catch {
        // the connection is already gone; closing it below is all that is left
      }
      this.#conn.close();
    }
    await this.closed;
  }

  /** `await using client = ...` closes the client at scope exit. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /**
   * Queue one frame. Throws at once, with nothing queued, what keeps it from
   * being sent: the encoder's own error (the connection is fine), or a
   * {@link ConnectionLostError} once the connection is gone. The promise it may
   * return (the writer is full) rejects only with a `ConnectionLostError`.
   */
  #send(envelope: Envelope): Promise<void> | undefined {
    if (this.#lost) throw this.#lost;
    let wait: Promise<void> | undefined;
    try {
      wait = this.#out.send(envelope);
    } catch (error) {
      // A failed writer throws its write error again on every send.
      throw this.#out.failed ? new ConnectionLostError(NOT_SENT, error) : error;
    }
    return wait?.catch((error: unknown) => {
      throw new ConnectionLostError(NOT_SENT, error);
    });
  }

  /** Fail the request waiting on `correlationId` if its queued frame is never written. */
  #failIfUnsent(sent: Promise<void>, correlationId: bigint): void {
    sent.catch((error: unknown) => this.#table.fail(correlationId, error));
  }

  async #readLoop(): Promise<void> {
    const reader = this.#reader;
    const inbound = new InboundMessages(
      this.#codec,
      this.#fragmentation,
      (error) => this.#breakOff(error),
    );
    const messages: Uint8Array[] = [];
    const emit = (message: Uint8Array): void => void messages.push(message);
    // A server that streams without pause must not keep this loop on microtasks for good.
    const budget = new LoopBudget();
    let failure: unknown;
    try {
      while (true) {
        const { done, value } = await reader.read();
        if (done) break;
        this.#out.inputRead(); // requests sent in answer to these bytes are not held back a turn
        inbound.decode(value, emit);
        for (const body of messages) {
          this.#fragmentation?.strategy.messageTakenUp?.();
          const wait = this.#dispatch(this.#serializer.decode(body));
          if (wait) await wait;
        }
        const slice = budget.spend(value.length, messages.length);
        messages.length = 0;
        if (slice) await slice;
      }
      inbound.finish();
    } catch (error) {
      failure = error;
    } finally {
      if (this.#broken) failure = this.#broken.error;
      inbound.close();
      const lost = this.#lost = new ConnectionLostError(undefined, failure);
      this.#table.failAll(lost);
      if (failure === undefined) this.#pushes.end();
      else this.#pushes.fail(lost);
      this.#conn.close();
    }
  }

  /** End the connection for `error` (the first reason is kept); the read loop then ends. */
  #breakOff(error: unknown): void {
    this.#broken ??= { error };
    this.#conn.close();
  }

  /** Route one received frame; returns a promise only when a full buffer makes reading wait. */
  #dispatch(frame: Envelope): Promise<void> | undefined {
    if (frame.correlationId === undefined) return this.#pushes.push(frame);
    const outcome: PendingResponse = this.#table.deliver(frame);
    if (outcome.kind === "wait") return outcome.wait;
    if (outcome.kind === "mismatch") {
      this.#table.failOldest(new CorrelationMismatchError(outcome.expected, frame.correlationId));
    }
    return undefined;
  }
}

/** What a request fails with when the connection broke while its frame was queued. */
const NOT_SENT = "the connection was lost before the request was sent";

/** Responses of one stream, without handing out the queue itself. */
function iterate(queue: AsyncQueue<Envelope>): AsyncIterable<Envelope> {
  return { [Symbol.asyncIterator]: () => queue[Symbol.asyncIterator]() };
}
