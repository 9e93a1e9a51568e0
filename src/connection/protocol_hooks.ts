/**
 * `ProtocolHooks`: every piece of user code a connection calls — the
 * protocol's hooks, the app's setup and teardown, the preamble's callbacks —
 * wrapped once. It owns the connection's context, and it alone catches,
 * logs and counts what those calls throw (through `countFault`), so the rest
 * of the connection never repeats a try/catch or a counter bump.
 *
 * @module
 */
import type { AppSpec } from "../app/app_spec.ts";
import type { ConnectionContext } from "../app/context.ts";
import { type PreambleConnection, PreambleError, type PreambleOptions } from "../app/preamble.ts";
import type { PhaseViolationError } from "../app/phases.ts";
import type { WireframeProtocol } from "../app/protocol.ts";
import type { Envelope } from "../codec/envelope.ts";
import type { Logger } from "../observe/logger.ts";
import type { Counters } from "../observe/stats.ts";
import { PushError } from "../push/errors.ts";
import type { HandlerResult, ResponseFrame } from "../response.ts";
import type { OutboundHooks } from "./actor.ts";
import type { ConnectionConfig } from "./connection_config.ts";
import { classifyFault, countFault, isIoFault } from "./faults.ts";

const identity = (frame: Envelope): Envelope => frame;

/** The user code of one connection, called safely. */
export class ProtocolHooks<S> implements OutboundHooks {
  /** The context every hook is called with. */
  readonly ctx: ConnectionContext<S>;
  readonly #spec: AppSpec<S>;
  readonly #protocol: WireframeProtocol<S>;
  readonly #counters: Counters;
  readonly #logger: Logger;
  readonly #rewrite: (frame: Envelope) => Envelope;

  constructor(config: ConnectionConfig<S>, ctx: ConnectionContext<S>) {
    const { spec } = config;
    const protocol = spec.protocol;
    this.ctx = ctx;
    this.#spec = spec;
    this.#protocol = protocol;
    this.#counters = config.counters;
    this.#logger = spec.logger;
    const beforeSend = protocol.beforeSend;
    // Resolved once: beforeSend runs for every frame written.
    this.#rewrite = beforeSend
      ? (frame) => beforeSend.call(protocol, frame, ctx) ?? frame
      : identity;
  }

  // --- setup and teardown ---

  /** The protocol's `onConnectionSetup`; a throw ends the connection (see `connectionFailed`). */
  protocolSetup(): void | Promise<void> {
    return this.#protocol.onConnectionSetup?.(this.ctx.push, this.ctx);
  }

  /** The app's `onConnectionSetup`, if any; a throw ends the connection. */
  appSetup(): S | Promise<S> | undefined {
    return this.#spec.setup?.(this.ctx);
  }

  /** The protocol's greeting, if it has one; a throw ends the connection. */
  greeting(): HandlerResult | Promise<HandlerResult> | undefined {
    return this.#protocol.greeting?.(this.ctx);
  }

  /** The protocol's answer to a frame its phase does not allow, if any; a throw ends the connection. */
  phaseViolation(
    violation: PhaseViolationError,
    request: Envelope,
  ): HandlerResult | Promise<HandlerResult> | undefined {
    return this.#protocol.phaseViolation?.(violation, request, this.ctx);
  }

  /** The protocol's last frames before the server closes the connection for `error`, if any. */
  closingFrames(error: unknown): HandlerResult | Promise<HandlerResult> | undefined {
    return this.#protocol.closingFrames?.(error, this.ctx);
  }

  /** A hook that failed while the connection was closing anyway: logged and counted. */
  closingHookFailed(name: string, error: unknown): void {
    this.#userFault(`protocol hook ${name} failed`, error);
  }

  /** True if the app has an `onConnectionTeardown`. */
  get hasTeardown(): boolean {
    return this.#spec.teardown !== undefined;
  }

  /**
   * The app's `onConnectionTeardown`, awaited unless `forced` settles first
   * (shutdown must end at its deadline); a failure is logged and counted.
   */
  async teardown(forced: Promise<unknown>): Promise<void> {
    const teardown = this.#spec.teardown;
    if (teardown === undefined) return;
    const FORCED = Symbol("forced");
    try {
      const outcome = await Promise.race([
        teardown(this.ctx.state, this.ctx),
        forced.then(() => FORCED),
      ]);
      if (outcome === FORCED) {
        this.#logger.warn("connection teardown did not finish before the force close", {
          connectionId: this.ctx.connectionId,
        });
      }
    } catch (error) {
      this.#userFault("connection teardown failed", error);
    }
  }

  // --- preamble ---

  /** Keep the decoded preamble and run `onSuccess`; its throw becomes a `rejected` preamble. */
  async preambleAccepted(
    options: Required<PreambleOptions<unknown>>,
    value: unknown,
    peer: PreambleConnection,
  ): Promise<void> {
    this.ctx.preamble = value;
    try {
      await options.onSuccess(value, peer);
    } catch (error) {
      throw new PreambleError("rejected", "preamble rejected by onSuccess", error);
    }
  }

  /** Count the peer's failed preamble, then run `onFailure` (which may answer it). */
  async preambleFailed(
    options: Required<PreambleOptions<unknown>>,
    error: PreambleError,
    peer: PreambleConnection,
  ): Promise<void> {
    countFault(this.#counters, "preamble");
    this.#logger.debug("preamble failed", {
      connectionId: this.ctx.connectionId,
      reason: error.reason,
    });
    try {
      await options.onFailure(error, peer);
    } catch (hookError) {
      // A reply the socket could not take is the transport's doing, not the hook's.
      if (!isIoFault(hookError)) this.#userFault("preamble onFailure failed", hookError);
    }
  }

  // --- requests ---

  /**
   * A fault of one request (a handler, middleware or stream threw, or a
   * response frame could not be sent): counted, logged and handed to the
   * protocol's `handleError`. I/O faults are the caller's to rethrow.
   */
  requestFailed(error: unknown, request: Envelope): void {
    // The connection is going away (a forced close refused the frame): that is
    // not this request's fault, and nobody is left to tell.
    if (this.ctx.signal.aborted && error instanceof PushError) return;
    countFault(this.#counters, "hook");
    const fields = {
      connectionId: this.ctx.connectionId,
      id: request.id,
      correlationId: request.correlationId,
      error,
    };
    const handleError = this.#protocol.handleError;
    if (handleError === undefined) {
      this.#logger.error("request failed", fields);
      return;
    }
    this.#logger.debug("request failed; passed to handleError", fields);
    this.#call("handleError", () => handleError.call(this.#protocol, error, this.ctx));
  }

  /** The protocol's `onCommandEnd`; returns a promise only when the hook is async. */
  commandEnd(): Promise<void> | undefined {
    const onCommandEnd = this.#protocol.onCommandEnd;
    if (onCommandEnd === undefined) return undefined;
    return this.#call("onCommandEnd", () => onCommandEnd.call(this.#protocol, this.ctx));
  }

  /** The protocol's terminator for a stream that ended normally, if it has one. */
  streamEndFrame(request: Envelope): ResponseFrame | undefined {
    const streamEndFrame = this.#protocol.streamEndFrame;
    if (streamEndFrame === undefined) return undefined;
    try {
      return streamEndFrame.call(this.#protocol, this.ctx);
    } catch (error) {
      this.requestFailed(error, request);
      return undefined;
    }
  }

  // --- outbound (the actor's hooks) ---

  /** The protocol's `beforeSend`, for every frame written; a throw is the caller's to report. */
  beforeSend(frame: Envelope): Envelope {
    return this.#rewrite(frame);
  }

  /** A pushed frame could not be sent: it is dropped, and the fault logged and counted. */
  pushFailed(error: unknown, frame: Envelope): void {
    countFault(this.#counters, "hook");
    this.#logger.error("push frame dropped: it could not be sent", {
      connectionId: this.ctx.connectionId,
      id: frame.id,
      error,
    });
  }

  // --- the connection ---

  /**
   * Count and log an error that ended the connection, as loudly as its kind
   * deserves: a transport failure or a peer's protocol violation at debug (the
   * peer's doing, and a hostile peer can cause any number of them), a fault in
   * a hook or in the library at error.
   */
  connectionFailed(error: unknown, setupDone: boolean): void {
    const fault = classifyFault(error, setupDone);
    countFault(this.#counters, fault);
    const fields = { connectionId: this.ctx.connectionId, error };
    if (fault === "transport") this.#logger.debug("connection ended by the transport", fields);
    else if (fault === "protocol") {
      this.#logger.debug("connection closed: protocol violation", fields);
    } else if (fault === "timeout") {
      this.#logger.debug("connection closed: timeout", fields);
    } else if (fault === "slow-consumer") {
      this.#logger.debug("connection closed: slow consumer (drain timeout)", fields);
    } else {
      this.#logger.error(
        fault === "hook" ? "connection setup failed" : "connection failed",
        fields,
      );
    }
  }

  /** Call a hook; a throw (or rejection) is a logged, counted fault. */
  #call(name: string, call: () => void | Promise<void>): Promise<void> | undefined {
    const report = (error: unknown) => this.#userFault(`protocol hook ${name} failed`, error);
    try {
      const result = call();
      return result instanceof Promise ? result.catch(report) : undefined;
    } catch (error) {
      report(error);
      return undefined;
    }
  }

  #userFault(message: string, error: unknown): void {
    countFault(this.#counters, "hook");
    this.#logger.error(message, { connectionId: this.ctx.connectionId, error });
  }
}
