/**
 * One request/response exchange through the connection's actor, with the
 * protocol hooks: ids inherited by response frames, `streamEndFrame` at a
 * stream's normal end, `handleError` for request faults, and exactly one
 * `onCommandEnd` per exchange.
 *
 * @module
 */
import type { Envelope } from "../codec/envelope.ts";
import type { RequestTrace } from "../observe/telemetry.ts";
import { type HandlerResult, Response, type ResponseFrame } from "../response.ts";
import { GONE, type Gone } from "../_internal/interrupter.ts";
import { PhaseViolationError } from "../app/phases.ts";
import type { OutboundActor } from "./actor.ts";
import { isIoFault } from "./faults.ts";
import type { ProtocolHooks } from "./protocol_hooks.ts";

/** What greeting frames inherit their ids from: message id 0, no correlation id. */
const GREETING: Envelope = Object.freeze({
  id: 0,
  correlationId: undefined,
  payload: new Uint8Array(0),
});

/** A response frame with the ids it inherits from `request` filled in. */
function envelopeOf(frame: ResponseFrame, request: Envelope): Envelope {
  return frame instanceof Uint8Array
    ? { id: request.id, correlationId: request.correlationId, payload: frame }
    : {
      id: frame.id ?? request.id,
      correlationId: frame.correlationId === null
        ? undefined
        : frame.correlationId ?? request.correlationId,
      payload: frame.payload,
    };
}

const FAILED = Symbol("failed");
type Failed = typeof FAILED;

/** Awaits a promise unless the connection goes away first (the connection's `Interrupter`). */
export interface Interruptible {
  wrap<T>(promise: T | Promise<T>): Promise<T | Gone>;
}

/** What one connection's exchanges run with. */
export interface ExchangesOptions<S> {
  /** Takes the response frames. */
  readonly actor: OutboundActor;
  /** The protocol's hooks around each exchange. */
  readonly hooks: ProtocolHooks<S>;
  /** Cuts an await on user code short when the connection goes away. */
  readonly interruptible: Interruptible;
}

/** Runs the exchanges of one connection; one at a time, in request order. */
export class Exchanges<S> {
  readonly #actor: OutboundActor;
  readonly #hooks: ProtocolHooks<S>;
  readonly #interruptible: Interruptible;
  /** The trace of the exchange running, if it is traced or timed (one at a time). */
  #trace: RequestTrace | undefined;

  constructor(options: ExchangesOptions<S>) {
    this.#actor = options.actor;
    this.#hooks = options.hooks;
    this.#interruptible = options.interruptible;
  }

  /**
   * Run one exchange to its end (including `onCommandEnd`). Returns a promise
   * only when it has to wait; rejects only with an I/O fault, which ends the
   * connection.
   */
  run(
    routed: Response | Promise<Response>,
    request: Envelope,
    trace?: RequestTrace,
  ): Promise<void> | undefined {
    this.#trace = trace;
    if (routed instanceof Promise) return this.#runAsync(routed, request);
    const sending = this.#send(routed, request);
    return sending ? sending.then(() => this.#endCommand()) : this.#endCommand();
  }

  /**
   * The protocol's greeting, before any request is read. Its frames answer no
   * request: a bare payload gets message id 0 and no correlation id. Rejects
   * (ending the connection) if the greeting cannot be produced or sent.
   */
  greet(): Promise<void> | undefined {
    const greeting = this.#hooks.greeting();
    return greeting === undefined ? undefined : this.#sendGreeting(greeting);
  }

  async #sendGreeting(greeting: HandlerResult | Promise<HandlerResult>): Promise<void> {
    const result = await this.#interruptible.wrap(greeting);
    if (result === GONE) return;
    await this.#sendAll(Response.from(result), GREETING);
  }

  /**
   * The protocol's last frames before the connection closes for `error`.
   * Never rejects: a hook that fails is reported, and the close goes on.
   */
  async farewell(error: unknown): Promise<void> {
    try {
      const frames = this.#hooks.closingFrames(error);
      if (frames === undefined) return;
      const result = await this.#interruptible.wrap(frames);
      if (result !== GONE) await this.#sendAll(Response.from(result), GREETING);
    } catch (hookError) {
      if (!isIoFault(hookError)) this.#hooks.closingHookFailed("closingFrames", hookError);
    }
  }

  /** Send every frame of `response`; a frame that cannot be sent rejects (no handleError). */
  async #sendAll(response: Response, request: Envelope): Promise<void> {
    const frames: Iterable<ResponseFrame> | AsyncIterable<ResponseFrame> = response.source ??
      response.frames;
    for await (const frame of frames) {
      const queued = this.#actor.offerResponse(envelopeOf(frame, request));
      if (queued) await queued;
    }
  }

  /** A handler or middleware threw before producing a response. */
  fault(error: unknown, request: Envelope, trace?: RequestTrace): Promise<void> | undefined {
    this.#trace = trace;
    if (error instanceof PhaseViolationError) return this.#refuse(error, request);
    this.#requestFault(error, request);
    return this.#endCommand();
  }

  /**
   * A frame its connection's phase does not allow: the protocol's answer
   * (ids inherited from the frame), then the error, which ends the
   * connection. No command ran, so no `onCommandEnd`.
   */
  async #refuse(violation: PhaseViolationError, request: Envelope): Promise<void> {
    const trace = this.#trace;
    this.#trace = undefined;
    trace?.fail(violation, "refused");
    trace?.end();
    const answer = this.#hooks.phaseViolation(violation, request);
    if (answer !== undefined) {
      const result = await this.#interruptible.wrap(answer);
      if (result !== GONE) await this.#sendAll(Response.from(result), request);
    }
    throw violation;
  }

  async #runAsync(pending: Promise<Response>, request: Envelope): Promise<void> {
    let response: Response | Gone;
    try {
      response = await this.#interruptible.wrap(pending);
    } catch (error) {
      if (error instanceof PhaseViolationError) return await this.#refuse(error, request);
      this.#requestFault(error, request);
      await this.#endCommand();
      return;
    }
    // A request abandoned because the connection went away still ends its command,
    // as a stream cut short does: onCommandEnd runs exactly once per request.
    if (response === GONE) {
      this.#trace?.cancel();
      return void await this.#endCommand();
    }
    await this.#send(response, request);
    await this.#endCommand();
  }

  #send(response: Response, request: Envelope): Promise<void> | undefined {
    this.#trace?.response(response.kind);
    if (response.source !== undefined) {
      return this.#pipeStream(response.source as AsyncIterable<ResponseFrame>, request);
    }
    const { frames } = response;
    for (let i = 0; i < frames.length; i++) {
      const queued = this.#queue(frames[i]!, request);
      if (queued === FAILED) return undefined;
      if (queued) return this.#sendRest(queued, frames, i + 1, request);
    }
    return undefined;
  }

  async #sendRest(
    first: Promise<void>,
    frames: readonly ResponseFrame[],
    from: number,
    request: Envelope,
  ): Promise<void> {
    if (!(await this.#settled(first, request))) return;
    for (let i = from; i < frames.length; i++) {
      const queued = this.#queue(frames[i]!, request);
      if (queued === FAILED) return;
      if (queued && !(await this.#settled(queued, request))) return;
    }
  }

  async #pipeStream(source: AsyncIterable<ResponseFrame>, request: Envelope): Promise<void> {
    const iterator = source[Symbol.asyncIterator]();
    let exhausted = false;
    try {
      while (true) {
        let step: IteratorResult<ResponseFrame> | Gone;
        try {
          step = await this.#interruptible.wrap(iterator.next());
        } catch (error) {
          exhausted = true; // a source that threw is finished: no terminator
          this.#requestFault(error, request);
          return;
        }
        if (step === GONE) return void this.#trace?.cancel();
        if (step.done) {
          exhausted = true;
          await this.#terminate(request);
          return;
        }
        const queued = this.#queue(step.value, request);
        if (queued === FAILED) return;
        if (queued && !(await this.#settled(queued, request))) return;
      }
    } finally {
      // Runs the generator's `finally` / the ReadableStream's cancel(); never waits on it.
      if (!exhausted) iterator.return?.().catch(() => {});
    }
  }

  /** At a stream's normal end: the protocol's terminator frame, if it supplies one. */
  async #terminate(request: Envelope): Promise<void> {
    const terminator = this.#hooks.streamEndFrame(request);
    if (terminator === undefined) return;
    const queued = this.#queue(terminator, request);
    if (queued && queued !== FAILED) await this.#settled(queued, request);
  }

  /**
   * Offer one response frame to the actor, filling in the request's ids.
   * Returns a promise while the actor holds it, FAILED if it could not be
   * sent (a request fault, already reported), or undefined if it went out.
   */
  #queue(frame: ResponseFrame, request: Envelope): Promise<void> | Failed | undefined {
    this.#trace?.frame(frame instanceof Uint8Array ? frame.byteLength : frame.payload.byteLength);
    try {
      return this.#actor.offerResponse(envelopeOf(frame, request));
    } catch (error) {
      this.#requestFault(error, request);
      return FAILED;
    }
  }

  /** Wait for a frame the actor holds; false if it failed (a request fault, reported). */
  async #settled(queued: Promise<void>, request: Envelope): Promise<boolean> {
    try {
      await queued;
      return true;
    } catch (error) {
      this.#requestFault(error, request);
      return false;
    }
  }

  /** A fault of this request: I/O faults end the connection; others go to the hooks. */
  #requestFault(error: unknown, request: Envelope): void {
    const trace = this.#trace;
    trace?.fail(error);
    if (isIoFault(error)) {
      this.#trace = undefined;
      trace?.end();
      throw error;
    }
    this.#hooks.requestFailed(error, request);
  }

  #endCommand(): Promise<void> | undefined {
    const trace = this.#trace;
    if (trace === undefined) return this.#hooks.commandEnd();
    this.#trace = undefined;
    const ended = this.#hooks.commandEnd();
    if (ended === undefined) {
      trace.commandEnd();
      trace.end();
      return undefined;
    }
    return ended.then(() => {
      trace.commandEnd();
      trace.end();
    });
  }
}
