/**
 * One connection's life: preamble, setup, the request loop, the outbound
 * actor, graceful or forced close, teardown.
 *
 * Requests are handled one at a time in arrival order, so responses keep
 * request order; a slow handler stops the loop reading, which stops socket
 * reads (back-pressure end to end). Pushes interleave through the actor.
 *
 * @module
 */
import type { AppSpec } from "../app/app.ts";
import { ConnectionContext } from "../app/context.ts";
import type { Router } from "../app/router.ts";
import type { Envelope } from "../codec/envelope.ts";
import type { Counters } from "../observe/stats.ts";
import type { DeadLetterSink } from "../push/dead_letter.ts";
import { PushHandle } from "../push/push_handle.ts";
import type { Response } from "../response.ts";
import { TransportError } from "../transport/errors.ts";
import type { Connection } from "../transport/types.ts";
import { createActor, type OutboundActor } from "./actor.ts";
import { Exchanges } from "./exchange.ts";
import { reportConnectionFault } from "./faults.ts";
import { GONE, type Gone, Interrupter } from "../_internal/interrupter.ts";
import { LoopBudget } from "../_internal/fairness.ts";
import { FrameWriter } from "../wire/frame_writer.ts";
import { InboundMessages } from "../wire/inbound_messages.ts";
import { createFragmenter } from "../wire/fragmentation_spec.ts";
import { runPreamble } from "./preamble_stage.ts";

/** What the server shares with every connection. */
export interface ConnectionDeps<S> {
  readonly spec: AppSpec<S>;
  readonly router: Router<S>;
  readonly counters: Counters;
  readonly deadLetters: DeadLetterSink | undefined;
}

/**
 * How long a graceful close waits, after our FIN, for the peer's EOF before
 * closing the socket anyway. Closing while unread bytes sit in the receive
 * buffer makes the kernel send a reset, which can destroy the end of our reply
 * on the peer's side; reading to EOF first avoids that ("lingering close").
 */
const LINGER_MS = 2_000;

/** How long a forced close waits for the peer's EOF by default (see `forceClose`). */
export const FORCED_LINGER_MS = 250;

const FORCED = Symbol("force-closed");

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
  readonly #out: FrameWriter;
  readonly #actor: OutboundActor;
  readonly #ctx: ConnectionContext<S>;
  readonly #exchanges: Exchanges<S>;
  /** Cuts awaits on user code short when the connection goes away. */
  readonly #interrupter: Interrupter<Gone>;
  #draining = false;
  /** True while the frames of one read are being handled. */
  #busy = false;
  #finishing = false;
  #lingerTimer: ReturnType<typeof setTimeout> | undefined;
  /** When the linger timer closes the socket (`performance.now()` time). */
  #closeAt = Infinity;
  #consecutiveMalformed = 0;
  /** Resolved by `forceClose()`: what a teardown still running is raced against. */
  readonly #forced = Promise.withResolvers<typeof FORCED>();
  /** A fault raised outside the read loop (a re-assembly timeout); ends the connection. */
  #fatal: { error: unknown } | undefined;

  constructor(conn: Connection, readonly connectionId: number, deps: ConnectionDeps<S>) {
    const { spec } = deps;
    this.#conn = conn;
    this.#deps = deps;
    this.#interrupter = new Interrupter(this.#abort.signal, GONE);
    this.#out = new FrameWriter({
      writer: conn.writable.getWriter(),
      codec: spec.codec,
      serializer: spec.serializer,
      fragmenter: spec.fragmentation && createFragmenter(spec.fragmentation),
    });
    this.#actor = createActor(connectionId, this.#out, deps, () => this.#ctx);
    this.#ctx = new ConnectionContext<S>(
      connectionId,
      conn.remoteAddr,
      conn.localAddr,
      this.#abort.signal,
      new PushHandle(this.#actor),
      spec.appData,
    );
    this.#exchanges = new Exchanges(
      spec,
      deps.counters,
      this.#actor,
      this.#ctx,
      (p) => this.#interrupter.wrap(p),
    );
    conn.closed.then(() => this.#abort.abort());
    this.done = this.#run();
  }

  /** Stop reading requests; the one in flight and queued pushes finish, then the connection closes. */
  drain(): void {
    this.#draining = true;
    if (!this.#busy) this.#finish();
  }

  /**
   * Close now, at a frame boundary: in-flight work is cancelled (`ctx.signal`
   * fires, a response stream stops before its next frame), queued pushes are
   * dead-lettered, the whole frames the writer already holds go out followed
   * by our FIN, and the socket closes at the peer's EOF or after `lingerMs`,
   * whichever comes first.
   */
  forceClose(lingerMs: number = FORCED_LINGER_MS): void {
    this.#draining = true;
    this.#forced.resolve(FORCED);
    this.#abort.abort();
    this.#actor.dropQueued();
    this.#finish();
    this.#closeWithin(lingerMs);
  }

  async #run(): Promise<void> {
    const { spec } = this.#deps;
    const reader = this.#conn.readable.getReader();
    const handle = this.#ctx.push;
    let setupDone = false;
    try {
      const leftover = spec.preamble
        ? await runPreamble(reader, this.#out, spec.preamble, this.#ctx, this.#deps)
        : new Uint8Array(0);
      if (leftover === undefined) return void await this.#discardUntilEof(reader);
      if (spec.protocol.onConnectionSetup) {
        const ran = await this.#interrupter.wrap(
          spec.protocol.onConnectionSetup(handle, this.#ctx),
        );
        if (ran === GONE) return;
      }
      if (spec.setup) {
        const setup = spec.setup(this.#ctx);
        const state = await this.#interrupter.wrap(setup);
        if (state === GONE) return this.#teardownLateSetup(setup);
        this.#ctx.state = state as S;
      }
      setupDone = true;
      spec.sessions?.add(handle);
      await this.#serve(reader, leftover);
      this.#finish();
      await this.#actor.idle();
      await this.#out.close();
    } catch (error) {
      reportConnectionFault(error, setupDone, this.connectionId, this.#deps);
      // Only a failed transport is past saving; after a WireframeError.io raised by user
      // code the socket is healthy and the frames already produced are delivered (§8).
      if (!(error instanceof TransportError)) await this.#closeAfterFault(reader);
    } finally {
      clearTimeout(this.#lingerTimer);
      this.#abort.abort();
      spec.sessions?.remove(handle);
      const discarded = this.#actor.abort();
      if (discarded > 0) {
        spec.logger.warn("connection closed with pushes still queued", {
          connectionId: this.connectionId,
          discarded,
          deadLettered: spec.deadLetters !== undefined,
        });
      }
      if (setupDone && spec.teardown) await this.#teardown();
      this.#conn.close();
    }
  }

  async #serve(
    reader: ReadableStreamDefaultReader<Uint8Array>,
    leftover: Uint8Array,
  ): Promise<void> {
    const { spec } = this.#deps;
    const inbound = new InboundMessages(spec.codec, spec.fragmentation, (error) => {
      this.#fatal = { error };
      this.drain();
    });
    try {
      await this.#readLoop(reader, leftover, inbound);
    } finally {
      inbound.close();
    }
    if (this.#fatal) throw this.#fatal.error;
  }

  async #readLoop(
    reader: ReadableStreamDefaultReader<Uint8Array>,
    leftover: Uint8Array,
    inbound: InboundMessages,
  ): Promise<void> {
    const frames: Uint8Array[] = [];
    const emit = (frame: Uint8Array): void => void frames.push(frame);
    // A peer that pipelines without pause, on a socket whose reads complete at
    // once, would otherwise keep this loop on microtasks for good.
    const budget = new LoopBudget();
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
        inbound.decode(chunk, emit);
      } catch (error) {
        decodeError = error;
      }
      const bytesRead = chunk.length;
      chunk = undefined;
      // Frames decoded before a codec error are still served, then the error closes.
      for (let i = 0; i < frames.length && !this.#draining; i++) {
        const pending = this.#handleFrame(frames[i]!);
        if (pending) await pending;
      }
      const framesRead = frames.length;
      frames.length = 0;
      if (decodeError !== undefined) throw decodeError;
      const slice = budget.spend(bytesRead, framesRead);
      if (slice) await slice;
    }
    this.#busy = false;
    if (!this.#draining) inbound.finish();
  }

  /** Handle one frame; returns a promise only when it has to wait. */
  #handleFrame(body: Uint8Array): Promise<void> | undefined {
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
      routed = router.route(request, this.#ctx);
    } catch (error) {
      counters.requests++;
      return this.#exchanges.fault(error, request);
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
    return this.#exchanges.run(routed, request);
  }

  #onMalformed(error: unknown): void {
    const { spec, counters } = this.#deps;
    counters.malformedFrames++;
    this.#consecutiveMalformed++;
    const { policy, maxConsecutive } = spec.malformed;
    if (policy === "close" || this.#consecutiveMalformed >= maxConsecutive) throw error;
    spec.logger.debug("dropped a malformed frame", { connectionId: this.connectionId, error });
  }

  /**
   * Start a graceful close: refuse new pushes, and once queued ones are out,
   * send our FIN; the socket closes at the peer's EOF or after LINGER_MS.
   */
  #finish(): void {
    if (this.#finishing) return;
    this.#finishing = true;
    this.#actor.close();
    this.#deps.spec.sessions?.remove(this.#ctx.push);
    // A failed flush surfaces on the next read or in #run; nothing to do here.
    this.#actor.idle().then(() => this.#out.close()).catch(() => {});
    this.#closeWithin(LINGER_MS);
  }

  /** Close the socket `ms` from now at the latest (an earlier deadline stands). */
  #closeWithin(ms: number): void {
    const at = performance.now() + ms;
    if (at >= this.#closeAt) return;
    this.#closeAt = at;
    clearTimeout(this.#lingerTimer);
    this.#lingerTimer = setTimeout(() => this.#conn.close(), ms);
  }

  /**
   * After a protocol violation, a hook fault or a WireframeError.io raised by
   * user code the socket itself is healthy:
   * deliver what was already produced, FIN, and linger, as a graceful close.
   */
  async #closeAfterFault(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
    this.#draining = true;
    this.#finish();
    try {
      await this.#actor.idle();
      await this.#out.close();
    } catch {
      // the socket failed too; the linger timer or the finally block closes it
    }
    await this.#discardUntilEof(reader);
  }

  /**
   * The connection went away while setup was still running. Its state, once
   * setup does return, still gets its teardown, in the background: shutdown
   * cannot wait for a setup that may never settle.
   */
  #teardownLateSetup(setup: S | Promise<S>): void {
    const { spec } = this.#deps;
    if (spec.teardown === undefined) return;
    Promise.resolve(setup).then((state) => {
      this.#ctx.state = state;
      return this.#teardown();
    }, () => {});
  }

  /** After a FIN we sent: read and drop until the peer's EOF, at most LINGER_MS. */
  async #discardUntilEof(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
    this.#closeWithin(LINGER_MS);
    try {
      while (!(await reader.read()).done);
    } catch {
      // reset, or closed by the timer: either way there is nothing left to read
    }
  }

  async #teardown(): Promise<void> {
    try {
      // Awaited, unless a force close gives up on it: shutdown must end at its deadline.
      const teardown = this.#deps.spec.teardown!(this.#ctx.state, this.#ctx);
      const outcome = await Promise.race([teardown, this.#forced.promise]);
      if (outcome === FORCED) {
        this.#deps.spec.logger.warn("connection teardown did not finish before the force close", {
          connectionId: this.connectionId,
        });
      }
    } catch (error) {
      this.#deps.counters.handlerErrors++;
      this.#deps.spec.logger.error("connection teardown failed", {
        connectionId: this.connectionId,
        error,
      });
    }
  }
}
