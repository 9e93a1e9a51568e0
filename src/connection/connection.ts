/**
 * One server connection's life: preamble, setup, the request loop, the
 * outbound actor, graceful or forced close, teardown. Its phase is one
 * {@link ConnectionState}; each change of phase is a named method here.
 *
 * Requests are handled one at a time in arrival order, so responses keep
 * request order; a slow handler stops the loop reading, which stops socket
 * reads (back-pressure end to end). Pushes interleave through the actor.
 *
 * @module
 */
import { ConnectionContext } from "../app/context.ts";
import type { Envelope } from "../codec/envelope.ts";
import { PushHandle } from "../push/push_handle.ts";
import { PushQueues } from "../push/push_queues.ts";
import { TokenBucket } from "../push/token_bucket.ts";
import type { Response } from "../response.ts";
import { TlsError, TransportError } from "../transport/errors.ts";
import { ConfigError } from "../error.ts";
import type { ConnectionControl, UpgradeTlsOptions } from "../app/context.ts";
import { UpgradableConnection } from "../transport/upgradable_connection.ts";
import type { Connection } from "../transport/types.ts";
import { LoopBudget } from "../_internal/fairness.ts";
import { GONE, type Gone, Interrupter } from "../_internal/interrupter.ts";
import { WaterMarks } from "../_internal/water_marks.ts";
import {
  connectionFragmentation,
  createFragmenter,
  type FragmentationSpec,
} from "../wire/fragmentation_spec.ts";
import type { ConnectionTelemetry } from "../observe/telemetry.ts";
import { ATTR, EVENT } from "../observe/telemetry_names.ts";
import { FrameWriter } from "../wire/frame_writer.ts";
import { InboundMessages } from "../wire/inbound_messages.ts";
import { OutboundActor } from "./actor.ts";
import { PhaseViolationError } from "../app/phases.ts";
import { ConnectionTimeoutError, type TimeoutReason } from "../app/timeouts.ts";
import { CloseDeadline } from "./close_deadline.ts";
import { Conversation } from "./conversation.ts";
import { classifyFault } from "./faults.ts";
import { InboundTimeouts, type TimeoutsOwner } from "./inbound_timeouts.ts";
import type { ConnectionConfig } from "./connection_config.ts";
import { Exchanges } from "./exchange.ts";
import { runPreamble } from "./preamble_stage.ts";
import { ProtocolHooks } from "./protocol_hooks.ts";
import { ConnectionState } from "./state.ts";
import { type ByteReader, openByteIo } from "../transport/_byte_io.ts";

/**
 * How long a graceful close waits, after our FIN, for the peer's EOF before
 * closing the socket anyway. Closing while unread bytes sit in the receive
 * buffer makes the kernel send a reset, which can destroy the end of our reply
 * on the peer's side; reading to EOF first avoids that ("lingering close").
 */
const LINGER_MS = 2_000;

/** How long a forced close waits for the peer's EOF by default (see `forceClose`). */
export const FORCED_LINGER_MS = 250;

type Reader = ByteReader;

/** The span `bytes[start, end)` as a Uint8Array: `bytes` itself if that is the whole. */
function viewOf(bytes: Uint8Array, start: number, end: number): Uint8Array {
  if (start === 0 && end === bytes.length) return bytes;
  return new Uint8Array(bytes.buffer, bytes.byteOffset + start, end - start);
}

/** The actor's clock, one for every connection. */
const now = (): number => performance.now();

/**
 * Serves one connection until it ends. `drain()` stops reading new requests
 * and lets the current one finish; `forceClose()` ends everything now.
 *
 * Its parts (the context, the timers) call back into the task itself, through
 * the interfaces it implements, rather than through closures: an idle
 * connection's memory is mostly what it keeps per connection (issue 11).
 */
export class ConnectionTask<S> implements ConnectionControl, TimeoutsOwner {
  /** Resolves when the connection has ended and teardown has run; never rejects. */
  readonly done: Promise<void>;
  readonly connectionId: number;
  /** The connection's span and events (a no-op unless an OpenTelemetry SDK records). */
  readonly telemetry: ConnectionTelemetry;
  readonly #conn: Connection;
  readonly #config: ConnectionConfig<S>;
  readonly #state = new ConnectionState();
  /** Cuts awaits on user code short, and fires `ctx.signal`, when the connection goes away. */
  readonly #interrupter = new Interrupter<Gone>(GONE);
  /** Set by `forceClose()`. */
  #forcedClose = false;
  /** What a teardown still running is raced against: made only for a teardown (see #whenForced). */
  #forced: PromiseWithResolvers<void> | undefined;
  readonly #deadline: CloseDeadline;
  readonly #out: FrameWriter;
  /** The connection's read side, locked with its write side (the FrameWriter holds that one). */
  readonly #reader: ByteReader;
  readonly #actor: OutboundActor;
  readonly #hooks: ProtocolHooks<S>;
  readonly #exchanges: Exchanges<S>;
  /** Where frames go while the command in flight receives them. */
  readonly #conversation: Conversation;
  /** The inbound half, while serving (for the re-assembly gauge). */
  #inbound: InboundMessages | undefined;
  /** The app's fragmentation, with this connection's own strategy if it keeps state. */
  readonly #fragmentation: FragmentationSpec | undefined;
  /** The command being handled, while it has not finished. */
  #inFlight: Promise<void> | undefined;
  readonly #timeouts: InboundTimeouts;
  /** The fault already counted and logged when it happened (a timeout). */
  #reported: unknown;
  #consecutiveMalformed = 0;
  /** Set by an upgrade to TLS: the frames and bytes read with the request are plain text, dropped. */
  #dropPipelined = false;

  constructor(conn: Connection, connectionId: number, config: ConnectionConfig<S>) {
    const { spec } = config;
    this.connectionId = connectionId;
    this.#conn = conn;
    this.#config = config;
    this.telemetry = config.telemetry.connection({
      connectionId,
      remoteAddr: conn.remoteAddr,
      localAddr: conn.localAddr,
    });
    this.#conversation = new Conversation(this.telemetry);
    this.#deadline = new CloseDeadline(conn);
    this.#fragmentation = connectionFragmentation(spec.fragmentation);
    // Queued pushes and the writer's bytes, under one pair of water marks.
    const marks = new WaterMarks(spec.outbound);
    if (this.telemetry.recording) {
      marks.watch((above) => this.telemetry.backPressure(above, marks.bytes));
    }
    const { reader, writer } = openByteIo(conn);
    this.#reader = reader;
    this.#out = new FrameWriter({
      writer,
      codec: spec.codec,
      serializer: spec.serializer,
      fragmenter: this.#fragmentation && createFragmenter(this.#fragmentation),
      marks,
      drainTimeoutMs: spec.outbound.drainTimeoutMs,
      transport: conn,
      connectionId,
      counters: config.counters,
    });
    this.#timeouts = new InboundTimeouts({
      timeouts: spec.timeouts,
      owner: this,
      handshakeIsFirstFrame: spec.phases === undefined,
    });
    const queues = new PushQueues({
      connectionId,
      highCapacity: spec.pushQueues.highCapacity,
      lowCapacity: spec.pushQueues.lowCapacity,
      rate: spec.rateLimit && new TokenBucket(spec.rateLimit.perSecond, spec.rateLimit.burst),
      deadLetters: config.deadLetters,
      logger: spec.logger,
      marks,
      telemetry: this.telemetry,
    });
    this.telemetry.track(
      config.telemetry.metricsLive
        ? () => ({
          high: queues.high.size,
          low: queues.low.size,
          reassemblyBytes: this.#inbound?.reassemblyBytes ?? 0,
        })
        : undefined,
    );
    this.#hooks = new ProtocolHooks(
      config,
      new ConnectionContext<S>({
        connectionId,
        remoteAddr: conn.remoteAddr,
        localAddr: conn.localAddr,
        abort: this.#interrupter,
        push: new PushHandle(queues),
        appData: spec.appData,
        receiver: this.#conversation,
        phases: spec.phases,
        control: this,
        spans: this.telemetry,
      }),
    );
    this.#actor = new OutboundActor({
      queues,
      writer: this.#out,
      hooks: this.#hooks,
      maxHighBeforeLow: spec.pushQueues.maxHighBeforeLow,
      timeSliceMs: spec.pushQueues.timeSliceMs,
      clock: now,
      // Until the greeting is out: setup code may push before it (see #run).
      holdPushes: true,
    });
    this.#exchanges = new Exchanges({
      actor: this.#actor,
      hooks: this.#hooks,
      interruptible: this.#interrupter,
    });
    conn.closed.then(() => this.#interrupter.interrupt());
    this.done = this.#run();
  }

  /** Stop reading requests; the one in flight and queued pushes finish, then the connection closes. */
  drain(): void {
    const { phase } = this.#state;
    // A command in flight finishes first, with the frames its conversation still reads.
    if (phase === "handling" || (phase === "reading" && this.#inFlight)) {
      this.#state.to("draining");
    } else if (phase === "opening" || phase === "reading") this.#beginClose();
  }

  /**
   * Close now, at a frame boundary: in-flight work is cancelled (`ctx.signal`
   * fires, a response stream stops before its next frame), queued pushes are
   * dead-lettered, the whole frames the writer already holds go out followed
   * by our FIN, and the socket closes at the peer's EOF or after `lingerMs`,
   * whichever comes first.
   */
  forceClose(lingerMs: number = FORCED_LINGER_MS): void {
    if (this.#state.phase === "closed") return;
    this.#forcedClose = true;
    this.#forced?.resolve();
    this.#interrupter.interrupt();
    this.#actor.dropQueued();
    this.#beginClose();
    this.#deadline.within(lingerMs);
  }

  /**
   * `ctx.upgradeTls()`: the command's frames so far go out in plain text, then
   * the handshake; the read loop, waiting on this command, reads through TLS
   * next. What the peer sent behind the request is dropped, or with
   * `pipelined: "keep"` fed to the handshake: the read loop decodes one
   * message at a time until the upgrade (see #serve), so those bytes are
   * still undecoded in the decoder.
   */
  async upgradeTls(options: UpgradeTlsOptions | undefined): Promise<void> {
    const conn = this.#conn;
    if (!(conn instanceof UpgradableConnection)) {
      throw new TlsError("ctx.upgradeTls() needs the server to listen with { startTls }");
    }
    const keep = options?.pipelined === "keep";
    const inbound = this.#inbound;
    if (keep && !inbound?.canHandBack) {
      throw new ConfigError(
        "codec",
        'ctx.upgradeTls({ pipelined: "keep" }): the codec\'s decoder cannot hand back the bytes ' +
          "behind the request (it has no stop() and takeBuffered())",
      );
    }
    await this.#out.flush();
    let buffered: Uint8Array | undefined;
    if (keep) buffered = inbound!.takeBuffered();
    else this.#dropPipelined = true;
    await conn.upgrade(buffered);
    if (inbound) inbound.oneAtATime = false; // no second upgrade: whole chunks again
  }

  /** `ctx.close()`: `drain()`, except that a close asked for by setup still sends the greeting. */
  closeRequested(): void {
    this.telemetry.closing("closed-by-app");
    if (this.#state.phase === "opening") this.#state.to("draining");
    else this.drain();
  }

  /** `ctx.enterPhase()`: a phase other than the initial one ends the handshake. */
  phaseEntered(name: string): void {
    this.telemetry.event(EVENT.phaseChanged, { [ATTR.phase]: name });
    if (name !== this.#config.spec.phases?.initial) this.#timeouts.handshakeDone();
  }

  /** `ctx.setIdleTimeout()`. */
  setIdle(ms: number): void {
    this.#timeouts.setIdle(ms);
  }

  /** For the idle timer: the server waits for the peer (reading, no command in flight). */
  get waitingForPeer(): boolean {
    return this.#state.phase === "reading" && this.#inFlight === undefined;
  }

  async #run(): Promise<void> {
    const { spec } = this.#config;
    const reader = this.#reader;
    const handle = this.#hooks.ctx.push;
    let setupDone = false;
    this.#timeouts.start();
    try {
      const leftover = spec.preamble
        ? await runPreamble(reader, this.#out, spec.preamble, this.#hooks)
        : new Uint8Array(0);
      if (spec.preamble) this.telemetry.preamble(leftover === undefined ? "failed" : "accepted");
      if (leftover === undefined) {
        this.telemetry.failed("preamble", undefined);
        return void await this.#discardUntilEof(reader);
      }
      const protocolSetup = this.#hooks.protocolSetup();
      if (protocolSetup && await this.#interrupter.wrap(protocolSetup) === GONE) return;
      const setup = this.#hooks.appSetup();
      if (setup !== undefined) {
        const state = await this.#interrupter.wrap(setup);
        if (state === GONE) return this.#teardownLateSetup(setup);
        this.#hooks.ctx.state = state as S;
      }
      setupDone = true;
      // The greeting goes before any response (nothing is read yet) and any
      // push: the registry has not got the handle yet, and the pushes setup
      // code made wait in the actor until the greeting is written.
      const greeting = this.#exchanges.greet();
      if (greeting) await greeting;
      this.#actor.releasePushes();
      spec.sessions?.add(handle);
      await this.#serve(reader, leftover);
      this.#beginClose();
      await this.#actor.idle();
      await this.#out.close();
    } catch (caught) {
      // A writer that failed by itself (a drain timeout) closed the transport:
      // report its reason, not the "connection closed" the reads then got.
      const error = this.#out.failure ?? caught;
      if (error !== this.#reported) {
        this.#hooks.connectionFailed(error, setupDone);
        this.telemetry.failed(classifyFault(error, setupDone), error);
      }
      // The peer broke the framing or the envelope: the protocol may answer before the close.
      if (
        classifyFault(error, setupDone) === "protocol" && !(error instanceof PhaseViolationError)
      ) {
        await this.#exchanges.farewell(error);
      }
      // Only a failed transport is past saving; after a WireframeError.io raised by user
      // code the socket is healthy and the frames already produced are delivered (§8).
      if (!(error instanceof TransportError)) await this.#closeAfterFault(reader);
    } finally {
      this.#timeouts.stop();
      this.#deadline.cancel();
      this.#interrupter.interrupt();
      spec.sessions?.remove(handle);
      const discarded = this.#actor.abort();
      if (discarded > 0) {
        spec.logger.warn("connection closed with pushes still queued", {
          connectionId: this.connectionId,
          discarded,
          deadLettered: this.#config.deadLetters !== undefined,
        });
      }
      // No teardown, no forced-close promise (made per ask); the await stays, for the same timing.
      if (setupDone) {
        await (this.#hooks.hasTeardown ? this.#hooks.teardown(this.#whenForced()) : undefined);
      }
      this.#state.to("closed");
      this.#conn.close();
      this.#out.stopDrainChecks();
      this.telemetry.end();
      this.#config.ended(this.connectionId);
    }
  }

  /** Set up the inbound half, then read (see #readLoop). */
  #serve(reader: Reader, leftover: Uint8Array): Promise<void> {
    const { spec } = this.#config;
    const inbound = new InboundMessages(spec.codec, this.#fragmentation, (error) => {
      this.#state.fail(error);
      this.drain();
    });
    this.#inbound = inbound;
    // Until an upgrade, no byte behind a request is decoded before the request is handled.
    inbound.oneAtATime = this.#conn instanceof UpgradableConnection && !this.#conn.upgraded;
    if (this.telemetry.recording) inbound.watchReassembly(this.telemetry);
    // The bytes that followed the preamble are the first read, unless a drain came first.
    if (this.#state.phase === "opening") this.#state.to("handling");
    return this.#readLoop(reader, leftover, inbound);
  }

  async #readLoop(reader: Reader, leftover: Uint8Array, inbound: InboundMessages): Promise<void> {
    const state = this.#state;
    // The frames of one read, each the span bodies[i][bounds[2i], bounds[2i + 1]):
    // with a decoder and a serializer that take spans, a request costs no view
    // of its frame, only of its payload.
    const bodies: Uint8Array[] = [];
    const bounds: number[] = [];
    const emitSpan = (bytes: Uint8Array, start: number, end: number): void => {
      bodies.push(bytes);
      bounds.push(start, end);
    };
    const emit = (frame: Uint8Array): void => emitSpan(frame, 0, frame.length);
    // A peer that pipelines without pause, on a socket whose reads complete at
    // once, would otherwise keep this loop on microtasks for good.
    const budget = new LoopBudget();
    let chunk: Uint8Array | undefined = leftover;
    // Bytes a one-at-a-time decode left (see #serve) are decoded next, not read (or counted) again.
    let undecoded = false;
    // The whole read side is one async function, with its end in this
    // `finally`: each async function suspended costs an idle connection ~0.5 KB.
    try {
      while (true) {
        if (chunk === undefined) {
          if (state.phase === "handling") state.to("reading");
          else if (state.phase === "draining" && !this.#inFlight) this.#beginClose();
          let read: ReadableStreamReadResult<Uint8Array>;
          try {
            read = await reader.read();
          } catch (error) {
            if (state.isClosing) break; // the close deadline closed the socket
            throw error;
          }
          if (read.done) break;
          if (state.isClosing) continue; // after our FIN: discard until the peer's EOF
          if (state.phase === "reading") state.to("handling");
          this.#out.inputRead(); // what answers these bytes is not a runaway producer's
          chunk = read.value;
        }
        let decodeError: unknown;
        try {
          inbound.decode(chunk, emit, emitSpan);
        } catch (error) {
          decodeError = error;
        }
        const bytesRead = undecoded ? 0 : chunk.length;
        chunk = undefined;
        this.#config.counters.bytesReceived += bytesRead;
        this.#config.counters.framesReceived += bodies.length;
        this.#timeouts.afterRead(bodies.length, inbound.holdsPartialFrame);
        // Frames decoded before a codec error are still served, then the error closes.
        for (let i = 0; i < bodies.length && !state.isClosing; i++) {
          const pending = this.#handleFrame(bodies[i]!, bounds[2 * i]!, bounds[2 * i + 1]!);
          if (pending) await pending;
          if (this.#dropPipelined) { // an upgrade to TLS: what followed the request was plain text
            this.#dropPipelined = false;
            bodies.length = bounds.length = 0;
            inbound.discardPartialFrame();
            decodeError = undefined;
          }
        }
        const framesRead = bodies.length;
        bodies.length = bounds.length = 0;
        if (decodeError !== undefined) throw decodeError;
        chunk = inbound.takeUndecoded();
        undecoded = chunk !== undefined;
        const slice = budget.spend(bytesRead, framesRead);
        if (slice) await slice;
      }
      // At the peer's EOF while serving: a frame or message cut short is a violation.
      if (!state.isClosing) inbound.finish();
      // A handler still waiting for frames learns that none will come.
      this.#conversation.end("the peer closed the connection");
      if (this.#inFlight) await this.#inFlight;
    } finally {
      this.#conversation.end("the connection is closing");
      inbound.close();
    }
    if (state.failure) throw state.failure.error;
  }

  /** Handle the frame `bytes[start, end)`; returns a promise only when it has to wait. */
  #handleFrame(bytes: Uint8Array, start: number, end: number): Promise<void> | undefined {
    this.#fragmentation?.strategy.messageTakenUp?.();
    const { serializer } = this.#config.spec;
    let request: Envelope;
    try {
      request = serializer.decodeSpan
        ? serializer.decodeSpan(bytes, start, end)
        : serializer.decode(viewOf(bytes, start, end));
    } catch (error) {
      this.#onMalformed(error);
      return undefined;
    }
    this.#consecutiveMalformed = 0;
    if (this.#conversation.isOpen) {
      const taken = this.#conversation.offer(request);
      if (taken === true) return undefined;
      // Taken later, or given back when the command ends: then it is routed.
      return taken.then((took) => took ? undefined : this.#route(request));
    }
    // Draining: only the command in flight gets frames; new requests are not read.
    if (this.#state.phase === "draining") return undefined;
    return this.#route(request);
  }

  /** Route one request and run its command; waits while the command does, unless it converses. */
  #route(request: Envelope): Promise<void> | undefined {
    if (this.#inFlight) return this.#inFlight.then(() => this.#route(request));
    if (this.#state.phase === "draining" || this.#state.isClosing) return undefined;
    const { router, counters } = this.#config;
    let routed: Response | Promise<Response> | undefined;
    this.#conversation.beginCommand();
    const trace = this.telemetry.requestStarted(request.id, request.correlationId);
    try {
      // With a request span, the handler runs with it as the active context.
      routed = trace?.span
        ? this.telemetry.within(trace, () => router.route(request, this.#hooks.ctx))
        : router.route(request, this.#hooks.ctx);
    } catch (error) {
      counters.requests++;
      return this.#awaitCommand(this.#exchanges.fault(error, request, trace));
    }
    if (routed === undefined) { // no route: counted by the router's listener
      trace?.unrouted();
      this.#conversation.endCommand();
      return undefined;
    }
    counters.requests++;
    return this.#awaitCommand(this.#exchanges.run(routed, request, trace));
  }

  /**
   * A command that did not finish at once. The read loop waits for it, unless
   * its handler opens a conversation: then the loop reads on for it, and the
   * command's end (or I/O fault) is handled here.
   */
  #awaitCommand(exchange: Promise<void> | undefined): Promise<void> | undefined {
    if (exchange === undefined) {
      this.#conversation.endCommand();
      return undefined;
    }
    const inFlight = exchange.then(
      () => this.#commandEnded(),
      (error) => {
        this.#commandEnded();
        // The read loop may have moved on (a conversation): end the connection from here.
        this.#state.fail(error);
        this.drain();
        throw error;
      },
    );
    this.#inFlight = inFlight;
    return this.#conversation.whileCommand(inFlight);
  }

  /**
   * A timeout expired: the protocol's last frames go out as a command of
   * their own (so nothing else is routed meanwhile), then the connection
   * closes; the read loop ends with the timeout as the connection's fault.
   */
  timedOut(reason: TimeoutReason, timeoutMs: number): void {
    const error = new ConnectionTimeoutError(reason, timeoutMs, this.connectionId);
    const { phase } = this.#state;
    if (this.#state.isClosing || phase === "draining") return;
    this.#state.fail(error);
    // Counted and logged now, when it is decided, not once the close has lingered out.
    this.#hooks.connectionFailed(error, true);
    this.telemetry.event(EVENT.timeoutFired, {
      [ATTR.timeoutReason]: reason,
      [ATTR.timeoutMs]: timeoutMs,
    });
    this.telemetry.failed("timeout", error);
    this.#reported = error;
    if (phase === "opening" || this.#inFlight) return this.drain();
    this.#inFlight = this.#exchanges.farewell(error).then(() => this.#commandEnded());
    this.#state.to("draining");
  }

  #commandEnded(): void {
    this.#inFlight = undefined;
    this.#conversation.endCommand();
    if (this.#state.phase === "draining") this.#beginClose();
  }

  #onMalformed(error: unknown): void {
    const { spec, counters } = this.#config;
    counters.malformedFrames++;
    this.#consecutiveMalformed++;
    const { policy, maxConsecutive } = spec.malformed;
    this.telemetry.event(EVENT.frameRejected, { [ATTR.rejectReason]: "malformed" });
    if (policy === "close" || this.#consecutiveMalformed >= maxConsecutive) throw error;
    spec.logger.debug("dropped a malformed frame", { connectionId: this.connectionId, error });
  }

  /**
   * Enter `closing`: refuse new pushes, and once queued ones are out, send
   * our FIN; the socket closes at the peer's EOF or after LINGER_MS.
   */
  #beginClose(): void {
    if (this.#state.isClosing) return;
    this.#state.to("closing");
    this.#actor.close();
    this.#config.spec.sessions?.remove(this.#hooks.ctx.push);
    // A failed flush surfaces on the next read or in #run; nothing to do here.
    this.#actor.idle().then(() => this.#out.close()).catch(() => {});
    this.#deadline.within(LINGER_MS);
  }

  /**
   * After a protocol violation, a hook fault or a WireframeError.io raised by
   * user code the socket itself is healthy: deliver what was already
   * produced, FIN, and linger, as a graceful close.
   */
  async #closeAfterFault(reader: Reader): Promise<void> {
    this.#beginClose();
    try {
      await this.#actor.idle();
      await this.#out.close();
    } catch {
      // the socket failed too; the close deadline or the finally block closes it
    }
    await this.#discardUntilEof(reader);
  }

  /**
   * The connection went away while setup was still running. Its state, once
   * setup does return, still gets its teardown, in the background: shutdown
   * cannot wait for a setup that may never settle.
   */
  #teardownLateSetup(setup: S | Promise<S>): void {
    if (!this.#hooks.hasTeardown) return;
    Promise.resolve(setup).then((state) => {
      this.#hooks.ctx.state = state;
      return this.#hooks.teardown(this.#whenForced());
    }, () => {});
  }

  /** Resolves at `forceClose()`: made on first ask, since only a teardown still running waits on it. */
  #whenForced(): Promise<void> {
    if (this.#forced === undefined) {
      this.#forced = Promise.withResolvers();
      if (this.#forcedClose) this.#forced.resolve();
    }
    return this.#forced.promise;
  }

  /** After a FIN we sent: read and drop until the peer's EOF, at most LINGER_MS. */
  async #discardUntilEof(reader: Reader): Promise<void> {
    this.#deadline.within(LINGER_MS);
    try {
      while (!(await reader.read()).done);
    } catch {
      // reset, or closed by the deadline: either way there is nothing left to read
    }
  }
}
