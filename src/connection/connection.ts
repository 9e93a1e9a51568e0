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
type Done = ReadableStreamReadDoneResult<Uint8Array>;
const DRAINED: Done = Object.freeze({ done: true as const, value: undefined });

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
  readonly #gone: Promise<Gone>;
  readonly #drained: Promise<Done>;
  #drain!: () => void;
  #draining = false;
  #consecutiveMalformed = 0;

  constructor(conn: Connection, readonly connectionId: number, deps: ConnectionDeps<S>) {
    this.#conn = conn;
    this.#deps = deps;
    const signal = this.#abort.signal;
    this.#gone = new Promise((resolve) =>
      signal.addEventListener("abort", () => resolve(GONE), { once: true })
    );
    this.#drained = new Promise((resolve) => (this.#drain = () => resolve(DRAINED)));
    conn.closed.then(() => this.#abort.abort(), () => this.#abort.abort());
    this.done = this.#run();
  }

  /** Stop reading requests; the one in flight finishes, then the connection closes. */
  drain(): void {
    this.#draining = true;
    this.#drain();
  }

  /** Close now: in-flight work is cancelled (`ctx.signal` fires). */
  forceClose(): void {
    this.drain();
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
      if (leftover === undefined) return;
      if (spec.setup) {
        const state = await this.#untilGone(spec.setup(ctx));
        if (state === GONE) return;
        ctx.state = state as S;
      }
      setupDone = true;
      const out = new FrameWriter(writer, spec.codec);
      await this.#serve(reader, out, ctx, leftover);
      await out.close();
    } catch (error) {
      this.#report(error, setupDone);
    } finally {
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
    while (!this.#draining) {
      if (chunk === undefined) {
        const read = await Promise.race([reader.read(), this.#drained]);
        if (read.done) break;
        chunk = read.value;
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
        await this.#handleFrame(frames[i]!, out, ctx);
      }
      frames.length = 0;
      if (decodeError !== undefined) throw decodeError;
    }
    if (!this.#draining) decoder.finish();
  }

  async #handleFrame(body: Uint8Array, out: FrameWriter, ctx: ConnectionContext<S>): Promise<void> {
    const { spec, router, counters } = this.#deps;
    let request: Envelope;
    try {
      request = spec.serializer.decode(body);
    } catch (error) {
      this.#onMalformed(error);
      return;
    }
    this.#consecutiveMalformed = 0;
    const pending = router.route(request, ctx);
    if (pending === undefined) {
      counters.unroutedFrames++;
      spec.logger.debug("dropped a frame with no route", {
        connectionId: this.connectionId,
        id: request.id,
      });
      return;
    }
    counters.requests++;
    let response: Response | Gone;
    try {
      response = await this.#untilGone(pending);
    } catch (error) {
      this.#onRequestFault(error, request);
      return;
    }
    if (response === GONE) return;
    if (response.source === undefined) {
      for (const frame of response.frames) {
        const wait = out.send(this.#encode(frame, request));
        if (wait) await wait;
      }
    } else {
      await this.#pipeStream(response.source as AsyncIterable<ResponseFrame>, request, out);
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
          step = await Promise.race([iterator.next(), this.#gone]);
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
        const wait = out.send(this.#encode(step.value, request));
        if (wait) await wait;
      }
    } finally {
      // Runs the generator's `finally` / the ReadableStream's cancel(); never waits on it.
      if (!exhausted) iterator.return?.().catch(() => {});
    }
  }

  #encode(frame: ResponseFrame, request: Envelope): Uint8Array {
    const { serializer } = this.#deps.spec;
    if (frame instanceof Uint8Array) {
      return serializer.encode({
        id: request.id,
        correlationId: request.correlationId,
        payload: frame,
      });
    }
    const correlationId = frame.correlationId === null
      ? undefined
      : frame.correlationId ?? request.correlationId;
    return serializer.encode({ id: frame.id ?? request.id, correlationId, payload: frame.payload });
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

  #untilGone<T>(value: T | Promise<T>): Promise<T | Gone> | T {
    return value instanceof Promise ? Promise.race([value, this.#gone]) : value;
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
