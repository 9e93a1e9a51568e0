/**
 * `Supervisor`: run N copies of a server process (one per core, on one port
 * with `reusePort`), restart one that dies, and stop them all gracefully.
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import process from "node:process";
import { z } from "zod";
import { intInRange, parseOptions } from "../_internal/options.ts";
import { type Logger, silentLogger } from "../observe/logger.ts";

/** Options of {@link Supervisor.start}. */
export interface SupervisorOptions {
  /** The program to run, e.g. `process.execPath`. */
  command: string;
  /** Its arguments. */
  args?: string[];
  /** How many workers. Default: `navigator.hardwareConcurrency`. */
  workers?: number;
  /** Extra environment; each worker also gets `WIREFRAME_WORKER` = its index (0…N-1). */
  env?: Record<string, string>;
  /** Wait before restarting a worker that died; doubles per quick death, up to 30 s. Default 100. */
  restartDelayMs?: number;
  /** Grace period after SIGTERM before a worker is killed (SIGKILL), in ms. Default 10,000. */
  shutdownTimeoutMs?: number;
  /** `"inherit"` (default): workers write to this process's stdout/stderr; `"ignore"`. */
  stdio?: "inherit" | "ignore";
  /** Where starts, deaths and restarts are reported. Default: silent. */
  logger?: Logger;
}

/** One running worker. */
export interface WorkerInfo {
  /** Its index, 0…N-1 (kept across restarts). */
  readonly index: number;
  /** Its process id. */
  readonly pid: number;
  /** How many times this index was restarted. */
  readonly restarts: number;
}

const schema = z.strictObject({
  command: z.string().min(1, { error: "must be a program to run" }),
  args: z.array(z.string()).default([]),
  workers: intInRange(1, 1_024).optional(),
  env: z.record(z.string(), z.string()).default({}),
  restartDelayMs: intInRange(0, 60_000).default(100),
  shutdownTimeoutMs: intInRange(0, 3_600_000).default(10_000),
  stdio: z.enum(["inherit", "ignore"]).default("inherit"),
  logger: z.custom<Logger>((v) => typeof (v as Logger)?.error === "function", {
    error: "must be a Logger",
  }).default(silentLogger),
});

/** A worker that lived this long is healthy: its next death restarts at the base delay. */
const STABLE_MS = 10_000;
const MAX_RESTART_DELAY_MS = 30_000;

interface Slot {
  index: number;
  child: ChildProcess | undefined;
  exited: Promise<void>;
  restarts: number;
  quickDeaths: number;
  startedAt: number;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/**
 * Runs and watches N worker processes. A worker that exits while the
 * supervisor is running is started again (same index, after a delay that
 * doubles while it keeps dying quickly); `shutdown()` sends SIGTERM to
 * every worker, waits up to `shutdownTimeoutMs`, then SIGKILLs the rest.
 * `handleSignals()` makes SIGTERM/SIGINT of the supervisor itself do that.
 *
 * For servers: give every worker the same port and `reusePort: true`
 * (`examples/cluster/supervisor.ts` does, with `examples/cluster/push_node.ts`).
 *
 * @example
 * ```ts ignore
 * // Needs --allow-run; tests/cluster/supervisor.test.ts runs the real thing.
 * import assert from "node:assert/strict";
 * import process from "node:process";
 * import { Supervisor } from "@wireframe/wireframe/cluster";
 *
 * // Two workers that wait to be told to stop (a real one would listen with reusePort).
 * const supervisor = Supervisor.start({
 *   command: process.execPath,
 *   args: ["eval", "setInterval(() => {}, 1000); Deno.addSignalListener('SIGTERM', () => Deno.exit(0))"],
 *   workers: 2,
 * });
 * assert.equal(supervisor.workers().length, 2);
 * await supervisor.shutdown();
 * assert.equal(supervisor.workers().length, 0);
 * ```
 */
export class Supervisor {
  readonly #options: z.output<typeof schema>;
  readonly #slots: Slot[] = [];
  #stopping: Promise<void> | undefined;
  readonly #exitListeners = new Set<(info: WorkerExit) => void>();

  private constructor(options: z.output<typeof schema>) {
    this.#options = options;
  }

  /**
   * Start the workers.
   * @throws {ConfigError} for an invalid option
   */
  static start(options: SupervisorOptions): Supervisor {
    const parsed = parseOptions("Supervisor.start", schema, options);
    const supervisor = new Supervisor(parsed);
    const count = parsed.workers ?? Math.max(1, navigator.hardwareConcurrency ?? 1);
    for (let index = 0; index < count; index++) {
      const slot: Slot = {
        index,
        child: undefined,
        exited: Promise.resolve(),
        restarts: 0,
        quickDeaths: 0,
        startedAt: 0,
        timer: undefined,
      };
      supervisor.#slots.push(slot);
      supervisor.#spawn(slot);
    }
    return supervisor;
  }

  /** The running workers. */
  workers(): WorkerInfo[] {
    return this.#slots.flatMap((slot) => {
      const pid = slot.child?.pid;
      const running = slot.child?.exitCode === null && slot.child.signalCode === null;
      return pid !== undefined && running
        ? [{ index: slot.index, pid, restarts: slot.restarts }]
        : [];
    });
  }

  /** Call `listener` each time a worker exits (before any restart). */
  onExit(listener: (info: WorkerExit) => void): () => void {
    this.#exitListeners.add(listener);
    return () => this.#exitListeners.delete(listener);
  }

  /**
   * Stop every worker: SIGTERM, then SIGKILL after `shutdownTimeoutMs`.
   * Resolves once all have exited. Idempotent.
   */
  shutdown(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  /** Shut down (and exit 0) when this process gets SIGTERM or SIGINT. */
  handleSignals(): void {
    const stop = async () => {
      await this.shutdown();
      process.exit(0);
    };
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
  }

  #spawn(slot: Slot): void {
    const { command, args, env, stdio, logger } = this.#options;
    const child = spawn(command, args, {
      env: { ...process.env, ...env, WIREFRAME_WORKER: String(slot.index) },
      stdio: ["ignore", stdio, stdio],
    });
    slot.child = child;
    slot.startedAt = Date.now();
    slot.exited = new Promise((resolve) => {
      child.once("error", (error) => {
        logger.error("supervisor: could not start a worker", { index: slot.index, error });
        resolve();
        this.#died(slot, child, null, null);
      });
      child.once("exit", (code, signal) => {
        resolve();
        this.#died(slot, child, code, signal);
      });
    });
    logger.info("supervisor: worker started", { index: slot.index, pid: child.pid });
  }

  #died(slot: Slot, child: ChildProcess, code: number | null, signal: string | null): void {
    if (slot.child !== child) return;
    const info: WorkerExit = { index: slot.index, pid: child.pid, code, signal };
    for (const listener of this.#exitListeners) {
      try {
        listener(info);
      } catch (error) {
        this.#options.logger.error("supervisor: an exit listener failed", { error });
      }
    }
    if (this.#stopping !== undefined) return;
    slot.quickDeaths = Date.now() - slot.startedAt < STABLE_MS ? slot.quickDeaths + 1 : 0;
    const delay = Math.min(
      this.#options.restartDelayMs * 2 ** Math.max(0, slot.quickDeaths - 1),
      MAX_RESTART_DELAY_MS,
    );
    this.#options.logger.warn("supervisor: worker died; restarting", { ...info, delayMs: delay });
    slot.timer = setTimeout(() => {
      slot.timer = undefined;
      if (this.#stopping !== undefined) return;
      slot.restarts++;
      this.#spawn(slot);
    }, delay);
  }

  async #stop(): Promise<void> {
    for (const slot of this.#slots) {
      clearTimeout(slot.timer);
      signal(slot.child, "SIGTERM");
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const all = Promise.all(this.#slots.map((slot) => slot.exited));
    const late = new Promise<"late">((resolve) =>
      timer = setTimeout(resolve, this.#options.shutdownTimeoutMs, "late")
    );
    if (await Promise.race([all, late]) === "late") {
      for (const slot of this.#slots) {
        if (slot.child?.exitCode === null && slot.child.signalCode === null) {
          signal(slot.child, "SIGKILL");
        }
      }
    }
    clearTimeout(timer);
    await all;
  }
}

/**
 * Send `name` to a worker. Through `process.kill(pid)`, not
 * `child.kill()`: on Deno 2.9.6, `ChildProcess.kill("SIGTERM")` ends the
 * child by SIGTERM even when it handles the signal (its handler runs, then
 * it dies), so no worker could shut down gracefully.
 */
function signal(child: ChildProcess | undefined, name: "SIGTERM" | "SIGKILL"): void {
  if (child?.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(child.pid, name);
  } catch {
    // already gone
  }
}

/** A worker exited. */
export interface WorkerExit {
  /** Its index. */
  readonly index: number;
  /** Its process id. */
  readonly pid: number | undefined;
  /** Its exit code, or `null` if a signal ended it. */
  readonly code: number | null;
  /** The signal that ended it, or `null`. */
  readonly signal: string | null;
}
