/**
 * `WireframeServer`: accepts connections on a transport and serves a
 * `WireframeApp` on each, with a connection limit and graceful shutdown.
 *
 * @module
 */
import { z } from "zod";
import { intInRange, parseOptions } from "../_internal/options.ts";
import { appSpec, type WireframeApp } from "../app/app.ts";
import type { AppSpec } from "../app/app_spec.ts";
import { ConnectionTask, FORCED_LINGER_MS } from "../connection/connection.ts";
import { type ConnectionConfig, connectionConfig } from "../connection/connection_config.ts";
import { countFault } from "../connection/faults.ts";
import { WireframeBaseError } from "../error.ts";
import { newCounters, type ServerStats, snapshotCounters } from "../observe/stats.ts";
import { ServerTelemetry, type TelemetryOptions } from "../observe/telemetry.ts";
import { runtimeTransport } from "../transport/runtime.ts";
import { UpgradableConnection } from "../transport/upgradable_connection.ts";
import { IdTable } from "../_internal/id_table.ts";
import type {
  Connection,
  Listener,
  ListenOptions,
  NetAddr,
  TlsListenOptions,
  Transport,
} from "../transport/types.ts";

/** Options of {@link WireframeServer}. */
export interface ServerOptions {
  /** Most connections served at once; more are closed on accept. Default 10,000. */
  maxConnections?: number;
  /** Default grace period of `shutdown()` before force-closing, in ms. Default 30,000. */
  shutdownTimeoutMs?: number;
  /** Transport to listen on; default: the running runtime's TCP transport. */
  transport?: Transport;
  /**
   * Where spans and metrics go (see docs/guides/observability.md). Default:
   * the providers registered with `@opentelemetry/api` when `listen()` runs
   * (by an SDK, or by Deno's `OTEL_DENO=true`); none registered costs nothing.
   */
  telemetry?: TelemetryOptions;
}

/** Where to listen. */
export interface ServeOptions {
  /** Interface to bind; default `"127.0.0.1"`. */
  hostname?: string;
  /** Port; `0` (the default) picks a free one (see `addr`). */
  port?: number;
  /**
   * Serve TLS only, with this PEM certificate chain and key (checked by the
   * transport: a bad one rejects with `TlsError` or `ConfigError`).
   */
  tls?: TlsListenOptions;
  /**
   * Share the port with other processes (`SO_REUSEPORT`): run one server
   * process per core on one port, the kernel spreading connections over
   * them (Linux; Deno needs `--unstable-net`). See docs/guides/scaling.md.
   */
  reusePort?: boolean;
  /**
   * Let handlers switch their connection to TLS with `ctx.upgradeTls()`
   * (STARTTLS), presenting this PEM certificate chain and key. Each
   * connection then passes through one more stream hop each way.
   */
  startTls?: TlsListenOptions;
}

/** Options of {@link WireframeServer.shutdown}. */
export interface ShutdownOptions {
  /** Grace period for in-flight work before force-closing, in ms. */
  timeoutMs?: number;
}

/** The server was used in a state that does not allow it (e.g. `listen()` twice). */
export class ServerStateError extends WireframeBaseError {
  /**
   * Create the error.
   *
   * @param message what was attempted
   */
  constructor(message: string) {
    super("ERR_SERVER_STATE", message);
  }
}

const optionsSchema = z.strictObject({
  maxConnections: intInRange(1, 1_000_000).default(10_000),
  shutdownTimeoutMs: intInRange(0, 3_600_000).default(30_000),
  transport: z.custom<Transport>(
    (value) => typeof value === "object" && value !== null && "listen" in value,
    {
      error: "must be a Transport",
    },
  ).optional(),
  telemetry: z.strictObject({
    tracerProvider: z.custom<NonNullable<TelemetryOptions["tracerProvider"]>>(
      (value) => typeof (value as { getTracer?: unknown })?.getTracer === "function",
      { error: "must be a TracerProvider" },
    ).optional(),
    meterProvider: z.custom<NonNullable<TelemetryOptions["meterProvider"]>>(
      (value) => typeof (value as { getMeter?: unknown })?.getMeter === "function",
      { error: "must be a MeterProvider" },
    ).optional(),
  }).optional(),
});

const serveSchema = z.strictObject({
  hostname: z.string({ error: "must be a hostname string" }).default("127.0.0.1"),
  port: intInRange(0, 65_535).default(0),
  // Checked by the transport, which knows what it supports.
  tls: z.custom<TlsListenOptions>().optional(),
  reusePort: z.boolean({ error: "must be a boolean" }).optional(),
  startTls: z.strictObject({
    cert: z.string().includes("-----BEGIN ", { error: "must be PEM text" }),
    key: z.string().includes("-----BEGIN ", { error: "must be PEM text" }),
  }, { error: "must be { cert, key }, PEM" }).optional(),
});

const ACCEPT_RETRY_MS = 100;

/**
 * Serves a {@link WireframeApp} over TCP (or any {@link Transport}).
 *
 * One failing connection — bad bytes, a throwing handler, a reset — never
 * stops the server or disturbs other connections. `shutdown()` stops
 * accepting, lets in-flight requests finish within a timeout, then
 * force-closes, and resolves when every connection has ended.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { WireframeApp, WireframeClient, WireframeServer } from "@wireframe/wireframe";
 *
 * const server = new WireframeServer(new WireframeApp().route(1, (req) => req.payload));
 * const { hostname, port } = await server.listen({ port: 0 }); // 0: any free port
 * assert.equal(hostname, "127.0.0.1");
 *
 * const client = await WireframeClient.connect({ port });
 * assert.deepEqual((await client.request(1, Uint8Array.of(7))).payload, Uint8Array.of(7));
 * await client.close();
 *
 * await server.shutdown({ timeoutMs: 1_000 }); // or `await using server = ...`
 * assert.deepEqual(
 *   [server.stats().requests, server.stats().connectionsActive],
 *   [1, 0],
 * );
 * ```
 */
export class WireframeServer<S = undefined> {
  /** Resolves once the server has shut down and every connection has ended. */
  readonly closed: Promise<void>;
  readonly #app: WireframeApp<S>;
  readonly #options: z.output<typeof optionsSchema>;
  readonly #counters = newCounters();
  /** The connections being served, by connection id (not a Map: see IdTable). */
  readonly #tasks = new IdTable<ConnectionTask<S>>();
  #listener: Listener | undefined;
  #listening = false;
  /** The identity `ctx.upgradeTls()` presents, if the server listens with `startTls`. */
  #startTls: TlsListenOptions | undefined;
  #acceptLoop: Promise<void> | undefined;
  #nextConnectionId = 1;
  #stopping = false;
  #shutdown: Promise<void> | undefined;
  #markClosed!: () => void;

  /**
   * Create a server for `app`; call `listen()` to start it.
   *
   * @param app the application to serve; its configuration is read at `listen()`
   * @param options limits and transport
   * @throws {ConfigError} for an invalid option
   */
  constructor(app: WireframeApp<S>, options: ServerOptions = {}) {
    this.#app = app;
    this.#options = parseOptions("WireframeServer", optionsSchema, options);
    this.closed = new Promise((resolve) => (this.#markClosed = resolve));
  }

  /** The address the server listens on. @throws {ServerStateError} before `listen()` */
  get addr(): NetAddr {
    if (!this.#listener) {
      throw new ServerStateError("the server is not listening; call listen() first");
    }
    return this.#listener.addr;
  }

  /** Start listening and accepting; resolves with the bound address. */
  async listen(options: ServeOptions = {}): Promise<NetAddr> {
    if (this.#listening || this.#stopping) {
      throw new ServerStateError(
        this.#stopping ? "the server was shut down" : "the server is already listening",
      );
    }
    const { tls, reusePort, startTls, ...address } = parseOptions("listen", serveSchema, options);
    this.#startTls = startTls;
    const where: ListenOptions = tls === undefined ? address : { ...address, tls };
    if (reusePort) where.reusePort = true; // only when asked: the memory transport refuses it
    const spec = appSpec(this.#app);
    // Claimed before the first await, so a concurrent listen() fails instead of binding twice.
    this.#listening = true;
    let listener: Listener;
    try {
      const transport = this.#options.transport ?? await runtimeTransport();
      listener = await transport.listen(where);
    } catch (error) {
      this.#listening = false;
      throw error;
    }
    if (this.#stopping) { // shutdown() ran while we were binding: it could not close this one
      await listener.close();
      throw new ServerStateError("the server was shut down while listen() was in progress");
    }
    this.#listener = listener;
    this.#acceptLoop = this.#accept(this.#listener, spec);
    spec.logger.info("listening", { ...this.#listener.addr });
    return this.#listener.addr;
  }

  /**
   * A snapshot of the server's counters: the same numbers its metrics report
   * (see docs/guides/observability.md).
   */
  stats(): ServerStats {
    return snapshotCounters(this.#counters);
  }

  /**
   * Stop accepting, let in-flight requests finish (no new ones are read),
   * force-close what remains near the end of `timeoutMs`, and resolve when
   * every connection has ended, within `timeoutMs` (the last fifth of it, at
   * most 250 ms, is the forced close's own wait). A forced close cuts a
   * response stream before its next frame, dead-letters queued pushes, sends
   * the whole frames already written and a FIN, so the peer sees EOF at a
   * frame boundary. Safe to call more than once.
   */
  shutdown(options: ShutdownOptions = {}): Promise<void> {
    const { timeoutMs } = parseOptions(
      "shutdown",
      z.strictObject({
        timeoutMs: intInRange(0, 3_600_000).default(this.#options.shutdownTimeoutMs),
      }),
      options,
    );
    this.#shutdown ??= this.#stop(timeoutMs);
    return this.#shutdown;
  }

  /** `await using server = ...` shuts the server down at scope exit. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
  }

  async #accept(listener: Listener, spec: AppSpec<S>): Promise<void> {
    const telemetry = new ServerTelemetry(this.#counters, this.#options.telemetry);
    const counters = this.#counters;
    const config = connectionConfig(spec, counters, telemetry, (connectionId) => {
      this.#tasks.delete(connectionId);
      counters.connectionsActive--;
    });
    while (!this.#stopping) {
      try {
        for await (const conn of listener) this.#admit(conn, config);
        return; // the listener was closed
      } catch (error) {
        if (this.#stopping) return;
        spec.logger.error("accept failed; retrying", { error });
        await new Promise((resolve) => setTimeout(resolve, ACCEPT_RETRY_MS));
      }
    }
  }

  #admit(conn: Connection, config: ConnectionConfig<S>): void {
    const counters = this.#counters;
    if (this.#stopping || this.#tasks.size >= this.#options.maxConnections) {
      counters.connectionsRejected++;
      conn.close();
      return;
    }
    let task: ConnectionTask<S>;
    try {
      const served = this.#startTls ? new UpgradableConnection(conn, this.#startTls) : conn;
      task = new ConnectionTask(served, this.#nextConnectionId++, config);
    } catch (error) {
      // Whatever went wrong is this connection's alone: the accept loop carries on.
      countFault(counters, "internal");
      config.spec.logger.error("could not start serving a connection", { error });
      conn.close();
      return;
    }
    counters.connectionsAccepted++;
    counters.connectionsActive++;
    this.#tasks.set(task.connectionId, task);
  }

  async #stop(timeoutMs: number): Promise<void> {
    this.#stopping = true;
    await this.#listener?.close();
    await this.#acceptLoop;
    const tasks = this.#tasks.values();
    for (const task of tasks) {
      task.telemetry.closing("shutdown-drained");
      task.drain();
    }
    const all = Promise.all(tasks.map((task) => task.done));
    // The forced close (cut at a frame boundary, FIN, a short wait for the
    // peer's EOF) is part of the grace period, so shutdown ends within it.
    const forcedLingerMs = Math.min(FORCED_LINGER_MS, Math.floor(timeoutMs / 5));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<"timeout">((
      resolve,
    ) => (timer = setTimeout(resolve, timeoutMs - forcedLingerMs, "timeout")));
    if (await Promise.race([all, deadline]) === "timeout") {
      for (const task of tasks) {
        task.telemetry.closing("shutdown-forced");
        task.forceClose(forcedLingerMs);
      }
    }
    clearTimeout(timer);
    await all;
    this.#markClosed();
  }
}
