/**
 * One connection's life: preamble, setup, the request loop, teardown.
 *
 * Requests are handled one at a time in arrival order, so responses keep
 * request order; a slow handler stops the loop reading, which stops socket
 * reads (back-pressure end to end).
 *
 * @module
 */
import type { AppSpec } from "../app/app.ts";
import { ConnectionContext } from "../app/context.ts";
import { PreambleError } from "../app/preamble.ts";
import type { Router } from "../app/router.ts";
import type { Envelope } from "../codec/envelope.ts";
import type { Counters } from "../observe/stats.ts";
import type { Response, ResponseFrame } from "../response.ts";
import type { Connection } from "../transport/types.ts";
import { classifyFault, isIoFault } from "./faults.ts";
import { FrameWriter } from "./frame_writer.ts";
import { readPreamble } from "./preamble_stage.ts";

/** What the server needs to serve a connection. */
export interface ConnectionDeps<S> {
  readonly spec: AppSpec<S>;
  readonly router: Router<S>;
  readonly counters: Counters;
}

const GONE = Symbol("connection gone");
type Gone = typeof GONE;
const FAILED = Symbol("failed");
type Failed = typeof FAILED;

/**
 * How long a graceful close waits, after our FIN, for the peer's EOF before
 * closing the socket anyway. Closing while unread bytes sit in the receive
 * buffer makes the kernel send a reset, which can destroy the end of our reply
 * on the peer's side; reading to EOF first avoids that ("lingering close").
 */
const LINGER_MS = 2_000;

/**
 * Serves one connection until it ends. `drain()` stops reading new requests
 * and lets the current one finish; `forceClose()` ends everything now.
 */
export class ConnectionTask<S> {
  /** Resolves when the connection has ended and teardown has run; never rejects. */
  readonly done: Promise<void>;
  readonly #conn: Connection;
  readonly #deps: ConnectionDeps<S>;
  readonly #abort = new AbortController();
  /** Wakes the one await in progress that may be cut short (a read, a handler, a stream step). */
  #interrupt: (() => void) | undefined;
  #out: FrameWriter | undefined;
  #draining = false;
  /** True while frames of a read are being handled. */
  #busy = false;
  #lingerTimer: ReturnType<typeof setTimeout> | undefined;
  #consecutiveMalformed = 0;

  constructor(conn: Connection, readonly connectionId: number, deps: ConnectionDeps<S>) {
    this.#conn = conn;
    this.#deps = deps;
    this.#abort.signal.addEventListener("abort", () => this.#interrupt?.(), { once: true });
    conn.closed.then(() => this.#abort.abort());
    this.done = this.#run();
  }

  /** Stop reading requests; the one in flight finishes, then the connection closes. */
  drain(): void {
    this.#draining = true;
    if (!this.#busy) this.#finish();
  }

  /** Close now: in-flight work is cancelled (`ctx.signal` fires). */
  forceClose(): void {
    this.#draining = true;
    this.#abort.abort();
    this.#conn.close();
  }

  async #run(): Promise<void> {
    const { spec } = this.#deps;
    const conn = this.#conn;
    const ctx = new ConnectionContext<S>(
      this.connectionId,
      conn.remoteAddr,
      conn.localAddr,
      this.#abort.signal,
      spec.appData,
    );
    const reader = conn.readable.getReader();
    const writer = conn.writable.getWriter();
    let setupDone = false;
    try {
      const leftover = spec.preamble
        ? await this.#preamble(reader, writer, ctx)
        : new Uint8Array(0);
      if (leftover === undefined) return void await this.#discardUntilEof(reader);
      if (spec.setup) {
        const state = await this.#interruptible(spec.setup(ctx));
        if (state === GONE) return;
        ctx.state = state as S;
      }
      setupDone = true;
      const out = this.#out = new FrameWriter(writer, spec.codec, spec.serializer);
      await this.#serve(reader, out, ctx, leftover);
      await out.close();
    } catch (error) {
      this.#report(error, setupDone);
    } finally {
      clearTimeout(this.#lingerTimer);
      this.#abort.abort();
      if (setupDone && spec.teardown) await this.#teardown(ctx);
      conn.close();
    }
  }

  async #serve(
    reader: ReadableStreamDefaultReader<Uint8Array>,
    out: FrameWriter,
    ctx: ConnectionContext<S>,
    leftover: Uint8Array,
  ): Promise<void> {
    const decoder = this.#deps.spec.codec.createDecoder();
    const frames: Uint8Array[] = [];
    const emit = (frame: Uint8Array): void => void frames.push(frame);
    let chunk: Uint8Array | undefined = leftover;
    while (true) {
      if (chunk === undefined) {
        this.#busy = false;
        if (this.#draining) this.#finish();
        let read: ReadableStreamReadResult<Uint8Array>;
        try {
          read = await reader.read();
        } catch (error) {
          if (this.#draining) break; // the linger timer closed the socket
          throw error;
        }
        if (read.done) break;
        if (this.#draining) continue; // after our FIN: discard until the peer's EOF
        chunk = read.value;
        this.#busy = true;
      }
      let decodeError: unknown;
      try {
        decoder.decode(chunk, emit);
      } catch (error) {
        decodeError = error;
      }
      chunk = undefined;
      // Frames decoded before a codec error are still served, then the error closes.
      for (let i = 0; i < frames.length && !this.#draining; i++) {
        const pending = this.#handleFrame(frames[i]!, out, ctx);
        if (pending) await pending;
      }
      frames.length = 0;
      if (decodeError !== undefined) throw decodeError;
    }
    this.#busy = false;
    if (!this.#draining) decoder.finish();
  }

  /** Handle one frame; returns a promise only when it has to wait. */
  #handleFrame(
    body: Uint8Array,
    out: FrameWriter,
    ctx: ConnectionContext<S>,
  ): Promise<void> | undefined {
    const { spec, router, counters } = this.#deps;
    let request: Envelope;
    try {
      request = spec.serializer.decode(body);
    } catch (error) {
      this.#onMalformed(error);
      return undefined;
    }
    this.#consecutiveMalformed = 0;
    let routed: Response | Promise<Response> | undefined;
    try {
      routed = router.route(request, ctx);
    } catch (error) {
      counters.requests++;
      this.#onRequestFault(error, request);
      return undefined;
    }
    if (routed === undefined) {
      counters.unroutedFrames++;
      spec.logger.debug("dropped a frame with no route", {
        connectionId: this.connectionId,
        id: request.id,
      });
      return undefined;
    }
    counters.requests++;
    if (routed instanceof Promise) return this.#awaitResponse(routed, request, out);
    return this.#send(routed, request, out);
  }

  async #awaitResponse(
    pending: Promise<Response>,
    request: Envelope,
    out: FrameWriter,
  ): Promise<void> {
    let response: Response | Gone;
    try {
      response = await this.#interruptible(pending);
    } catch (error) {
      this.#onRequestFault(error, request);
      return;
    }
    if (response === GONE) return;
    const sending = this.#send(response, request, out);
    if (sending) await sending;
  }

  #send(response: Response, request: Envelope, out: FrameWriter): Promise<void> | undefined {
    if (response.source !== undefined) {
      return this.#pipeStream(response.source as AsyncIterable<ResponseFrame>, request, out);
    }
    const { frames } = response;
    for (let i = 0; i < frames.length; i++) {
      const queued = this.#queue(frames[i]!, request, out);
      if (queued === FAILED) return undefined;
      if (queued) return this.#sendRest(queued, frames, i + 1, request, out);
    }
    return undefined;
  }

  async #sendRest(
    wait: Promise<void>,
    frames: readonly ResponseFrame[],
    from: number,
    request: Envelope,
    out: FrameWriter,
  ): Promise<void> {
    await wait;
    for (let i = from; i < frames.length; i++) {
      const queued = this.#queue(frames[i]!, request, out);
      if (queued === FAILED) return;
      if (queued) await queued;
    }
  }

  async #pipeStream(
    source: AsyncIterable<ResponseFrame>,
    request: Envelope,
    out: FrameWriter,
  ): Promise<void> {
    const iterator = source[Symbol.asyncIterator]();
    let exhausted = false;
    try {
      while (true) {
        let step: IteratorResult<ResponseFrame> | Gone;
        try {
          step = await this.#interruptible(iterator.next());
        } catch (error) {
          exhausted = true; // a source that threw is finished
          this.#onRequestFault(error, request);
          return;
        }
        if (step === GONE) return;
        if (step.done) {
          exhausted = true;
          return;
        }
        const queued = this.#queue(step.value, request, out);
        if (queued === FAILED) return;
        if (queued) await queued;
      }
    } finally {
      // Runs the generator's `finally` / the ReadableStream's cancel(); never waits on it.
      if (!exhausted) iterator.return?.().catch(() => {});
    }
  }

  /** Send our FIN after everything queued, and close the socket at the peer's EOF or after LINGER_MS. */
  #finish(): void {
    if (this.#out === undefined || this.#lingerTimer !== undefined) return;
    this.#out.close().catch(() => {}); // a failed flush surfaces on the next write or read
    this.#lingerTimer = setTimeout(() => this.#conn.close(), LINGER_MS);
  }

  /** After a FIN we sent: read and drop until the peer's EOF, at most LINGER_MS. */
  async #discardUntilEof(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
    this.#lingerTimer = setTimeout(() => this.#conn.close(), LINGER_MS);
    try {
      while (!(await reader.read()).done);
    } catch {
      // reset or closed by the timer: either way there is nothing left to read
    }
  }

  /**
   * Await `promise` unless the connection goes away first (→ GONE), so a
   * handler that never settles cannot hold up shutdown. Only one await is
   * interruptible at a time, so nothing subscribes to a long-lived promise.
   */
  #interruptible<T>(promise: T | Promise<T>): Promise<T | Gone> {
    if (this.#abort.signal.aborted) return Promise.resolve(GONE);
    return new Promise((resolve, reject) => {
      this.#interrupt = () => resolve(GONE);
      Promise.resolve(promise).then(
        (value) => {
          this.#interrupt = undefined;
          resolve(value);
        },
        (error) => {
          this.#interrupt = undefined;
          reject(error);
        },
      );
    });
  }

  /**
   * Queue a response frame, filling in the request's ids. Returns a promise
   * when the writer is full, or FAILED when the frame cannot be encoded: a
   * fault of this request, already reported, that ends its response.
   */
  #queue(
    frame: ResponseFrame,
    request: Envelope,
    out: FrameWriter,
  ): Promise<void> | Failed | undefined {
    const envelope: Envelope = frame instanceof Uint8Array
      ? { id: request.id, correlationId: request.correlationId, payload: frame }
      : {
        id: frame.id ?? request.id,
        correlationId: frame.correlationId === null
          ? undefined
          : frame.correlationId ?? request.correlationId,
        payload: frame.payload,
      };
    try {
      return out.send(envelope);
    } catch (error) {
      this.#onRequestFault(error, request);
      return FAILED;
    }
  }

  /** A request-level fault: an I/O fault ends the connection, anything else only the request. */
  #onRequestFault(error: unknown, request: Envelope): void {
    if (isIoFault(error)) throw error;
    this.#deps.counters.handlerErrors++;
    this.#deps.spec.logger.error("request failed", {
      connectionId: this.connectionId,
      id: request.id,
      correlationId: request.correlationId,
      error,
    });
  }

  #onMalformed(error: unknown): void {
    const { spec, counters } = this.#deps;
    counters.malformedFrames++;
    this.#consecutiveMalformed++;
    const { policy, maxConsecutive } = spec.malformed;
    if (policy === "close" || this.#consecutiveMalformed >= maxConsecutive) throw error;
    spec.logger.debug("dropped a malformed frame", { connectionId: this.connectionId, error });
  }

  async #preamble(
    reader: ReadableStreamDefaultReader<Uint8Array>,
    writer: WritableStreamDefaultWriter<Uint8Array>,
    ctx: ConnectionContext<S>,
  ): Promise<Uint8Array | undefined> {
    const { spec, counters } = this.#deps;
    const options = spec.preamble!;
    const peer = {
      remoteAddr: this.#conn.remoteAddr,
      write: (bytes: Uint8Array) => writer.write(bytes),
    };
    try {
      const { value, leftover } = await readPreamble(reader, options);
      ctx.preamble = value;
      try {
        await options.onSuccess(value, peer);
      } catch (error) {
        throw new PreambleError("rejected", "preamble rejected by onSuccess", error);
      }
      return leftover;
    } catch (error) {
      if (!(error instanceof PreambleError)) throw error;
      counters.preambleFailures++;
      spec.logger.debug("preamble failed", {
        connectionId: this.connectionId,
        reason: error.reason,
      });
      try {
        await options.onFailure(error, peer);
        await writer.close(); // FIN after the reply, so the peer reads it before the close
      } catch (hookError) {
        this.#report(hookError, false);
      }
      return undefined;
    }
  }

  async #teardown(ctx: ConnectionContext<S>): Promise<void> {
    try {
      await this.#deps.spec.teardown!(ctx.state, ctx);
    } catch (error) {
      this.#deps.counters.handlerErrors++;
      this.#deps.spec.logger.error("connection teardown failed", {
        connectionId: this.connectionId,
        error,
      });
    }
  }

  #report(error: unknown, setupDone: boolean): void {
    const { spec, counters } = this.#deps;
    const fault = classifyFault(error, setupDone);
    if (fault === "hook") counters.handlerErrors++;
    else counters.connectionErrors++;
    const fields = { connectionId: this.connectionId, error };
    if (fault === "transport") spec.logger.debug("connection ended by the transport", fields);
    else if (fault === "protocol") {
      spec.logger.warn("connection closed: protocol violation", fields);
    } else {spec.logger.error(
        fault === "hook" ? "connection setup failed" : "connection failed",
        fields,
      );}
  }
}
