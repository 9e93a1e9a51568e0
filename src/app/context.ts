/**
 * What handlers, middleware and hooks know about their connection.
 *
 * @module
 */
import { INVALID_SPAN_CONTEXT, trace } from "@opentelemetry/api";
import type { OtelSpan as Span } from "../observe/telemetry.ts";
import type { PushHandle } from "../push/push_handle.ts";
import type { NetAddr } from "../transport/types.ts";
import { TlsError } from "../transport/errors.ts";
import type { Envelope } from "../codec/envelope.ts";
import { ConfigError } from "../error.ts";
import type { PhaseSpec } from "./phases.ts";
import { type AppDataKey, MissingAppDataError } from "./app_data.ts";
import {
  type FrameReceiver,
  NO_RECEIVER,
  receiveFrames,
  type ReceiveOptions,
} from "./conversation.ts";

/** Facts about a connection, available from setup to teardown. */
export interface ConnectionInfo {
  /** Server-assigned id, unique for the server's lifetime (starts at 1). */
  readonly connectionId: number;
  /** The peer's address. */
  readonly remoteAddr: NetAddr;
  /** Our end's address. */
  readonly localAddr: NetAddr;
  /** The decoded preamble, if the app uses one (see `withPreamble`). */
  readonly preamble: unknown;
  /** Fires when the connection goes away (closed, reset, or force-closed at shutdown). */
  readonly signal: AbortSignal;
  /** Pushes frames to this connection from anywhere (see {@link PushHandle}). */
  readonly push: PushHandle;
  /**
   * The OpenTelemetry span of what runs now: the request's span in a handler
   * or middleware, else the connection's. Start child spans under it
   * (`trace.setSpan(context.active(), ctx.span)`); without an SDK it is a
   * non-recording span and costs nothing (see docs/guides/observability.md).
   */
  readonly span: Span;
  /**
   * Read app data registered with `WireframeApp.appData()`.
   * @throws {MissingAppDataError} if the key was never registered
   */
  appData<T>(key: AppDataKey<T>): T;
  /**
   * Close this connection gracefully, as the server decided to (MQTT's
   * DISCONNECT, SMTP's QUIT, a session taken over by a newer connection): no
   * new request is read; the command in flight finishes, its frames, queued
   * pushes and the greeting go out, then our FIN. Frames that arrive meanwhile
   * are discarded, except those a conversation in flight receives. It returns
   * at once (a handler that awaited the close would wait for itself); await
   * `ctx.signal` for the end. Calling it again, or on a closing connection,
   * does nothing.
   */
  close(): void;
}

/**
 * The context of a request: the connection facts plus the per-connection
 * state returned by `onConnectionSetup`.
 */
export interface Context<S = undefined> extends ConnectionInfo {
  /** The state `onConnectionSetup` returned for this connection. */
  readonly state: S;
  /**
   * Receive the next frame of this connection within the current command (a
   * conversation): from the first call until the handler's response ends,
   * frames go to the handler instead of the router. Frames the handler sent
   * before waiting go out first; reading waits while the handler does
   * (back-pressure); the framing limits and the malformed-frame policy apply
   * as always; pushes keep flowing.
   *
   * @throws {ConversationError} `timeout`, `peer-closed` (the peer closed or
   *   reset, or the connection is closing), `not-in-command`, `concurrent`
   */
  next(options?: ReceiveOptions): Promise<Envelope>;
  /**
   * `next()` as an async iterable, for `for await (const frame of
   * ctx.receive())`; it ends when the loop breaks, and throws as `next()`.
   */
  receive(options?: ReceiveOptions): AsyncIterable<Envelope>;
  /** The connection's phase (see `app.phases()`); `"ready"` for an app without phases. */
  readonly phase: string;
  /**
   * Move the connection to phase `name`, e.g. `"ready"` after a successful
   * handshake; the next frame is routed by it.
   * @throws {ConfigError} if the app names no such phase
   */
  enterPhase(name: string): void;
  /**
   * This connection's idle timeout from now on, in ms (0: off), e.g. 1.5 ×
   * the keepalive an MQTT client asked for (see `app.timeouts()`).
   * @throws {ConfigError} unless an integer from 0 to 2^31−1
   */
  setIdleTimeout(ms: number): void;
  /**
   * Switch this connection to TLS now (STARTTLS, MySQL's SSLRequest): the
   * frames this command sent so far (the "go ahead") reach the peer in plain
   * text first, then the TLS handshake runs, and every byte after it is
   * encrypted. What the peer sent behind the request is discarded by default,
   * never read as if it had come over TLS (RFC 3207 §4.2); with
   * `{ pipelined: "keep" }` it is the start of the handshake (a MySQL client
   * sends its ClientHello right behind its SSLRequest). Needs the server to
   * listen with `startTls: { cert, key }`.
   * @throws {TlsError} without `startTls`, when already upgraded, or when the
   *   handshake fails (the connection then closes)
   * @throws {ConfigError} with `pipelined: "keep"` when the app's codec cannot
   *   hand back the bytes its decoder holds (no `stop()` / `takeBuffered()`)
   */
  upgradeTls(options?: UpgradeTlsOptions): Promise<void>;
}

/** Options of {@link Context.upgradeTls}. */
export interface UpgradeTlsOptions {
  /**
   * The bytes the peer sent behind the upgrade request: `"drop"` (default;
   * STARTTLS, where they are plain text an attacker may have injected) or
   * `"keep"`: they are TLS already, fed to the handshake in order, none lost
   * (MySQL's and PostgreSQL's SSLRequest, whose clients do not wait).
   */
  readonly pipelined?: "drop" | "keep";
}

/** What a {@link ConnectionContext} is made from. */
export interface ConnectionContextInit {
  readonly connectionId: number;
  readonly remoteAddr: NetAddr;
  readonly localAddr: NetAddr;
  /**
   * Where `signal` comes from, asked only when user code reads it: an
   * `AbortController`, or the connection's interrupter (which makes its
   * controller on first ask).
   */
  readonly abort: { readonly signal: AbortSignal };
  readonly push: PushHandle;
  readonly appData: ReadonlyMap<AppDataKey<unknown>, unknown>;
  /** Where `next()` gets frames from; default: none (every call fails). */
  readonly receiver?: FrameReceiver;
  /** The app's phases, if it declares any. */
  readonly phases?: PhaseSpec | undefined;
  /** The connection behind `close()`, `upgradeTls()` and the timers (default: none). */
  readonly control?: ConnectionControl | undefined;
  /** Where `span` comes from: the connection's telemetry (default: a non-recording span). */
  readonly spans?: { readonly currentSpan: Span } | undefined;
}

const NO_SPANS = Object.freeze({ currentSpan: trace.wrapSpanContext(INVALID_SPAN_CONTEXT) });

/** What a context asks of its connection (internal): one object, no callback per call. */
export interface ConnectionControl {
  /** The connection entered phase `name` (its handshake timer may stop). */
  phaseEntered(name: string): void;
  /** A new idle timeout, already checked. */
  setIdle(ms: number): void;
  /** `close()`: the connection's graceful close. */
  closeRequested(): void;
  /** `upgradeTls()`. */
  upgradeTls(options: UpgradeTlsOptions | undefined): Promise<void>;
}

/** The one object behind both views; created once per connection. */
export class ConnectionContext<S> implements Context<S> {
  /** Set once setup has returned. */
  state!: S;
  preamble: unknown = undefined;
  readonly connectionId: number;
  readonly remoteAddr: NetAddr;
  readonly localAddr: NetAddr;
  readonly push: PushHandle;
  readonly #abort: { readonly signal: AbortSignal };
  readonly #appData: ReadonlyMap<AppDataKey<unknown>, unknown>;
  readonly #receiver: FrameReceiver;
  readonly #phases: PhaseSpec | undefined;
  readonly #control: ConnectionControl | undefined;
  readonly #spans: { readonly currentSpan: Span };
  #phase: string;

  constructor(init: ConnectionContextInit) {
    this.connectionId = init.connectionId;
    this.remoteAddr = init.remoteAddr;
    this.localAddr = init.localAddr;
    this.#abort = init.abort;
    this.push = init.push;
    this.#appData = init.appData;
    this.#receiver = init.receiver ?? NO_RECEIVER;
    this.#phases = init.phases;
    this.#phase = init.phases?.initial ?? "ready";
    this.#control = init.control;
    this.#spans = init.spans ?? NO_SPANS;
  }

  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  get span(): Span {
    return this.#spans.currentSpan;
  }

  close(): void {
    this.#control?.closeRequested();
  }

  upgradeTls(options?: UpgradeTlsOptions): Promise<void> {
    if (this.#control === undefined) {
      return Promise.reject(new TlsError("this connection cannot upgrade to TLS"));
    }
    return this.#control.upgradeTls(options);
  }

  get phase(): string {
    return this.#phase;
  }

  enterPhase(name: string): void {
    const names = this.#phases?.names;
    if (names === undefined || !names.has(name)) {
      throw new ConfigError(
        "name",
        `enterPhase: phase "${name}" is not one of the app's phases (${
          names ? [...names].map((n) => `"${n}"`).join(", ") : "it declares none"
        })`,
      );
    }
    this.#phase = name;
    this.#control?.phaseEntered(name);
  }

  setIdleTimeout(ms: number): void {
    if (!(Number.isInteger(ms) && ms >= 0 && ms <= 2 ** 31 - 1)) {
      throw new ConfigError(
        "ms",
        `setIdleTimeout: option "ms" must be an integer from 0 to ${2 ** 31 - 1} (got ${ms})`,
      );
    }
    this.#control?.setIdle(ms);
  }

  next(options?: ReceiveOptions): Promise<Envelope> {
    return this.#receiver.next(options);
  }

  receive(options?: ReceiveOptions): AsyncIterable<Envelope> {
    return receiveFrames(this.#receiver, options);
  }

  appData<T>(key: AppDataKey<T>): T {
    if (!this.#appData.has(key)) throw new MissingAppDataError(key.name);
    return this.#appData.get(key) as T;
  }
}
