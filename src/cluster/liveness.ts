/**
 * `Liveness`: which nodes are alive, from their heartbeats. A node silent
 * for the deadline is declared down; while paused (this node's own broker
 * link is down, so silence proves nothing) no verdict is taken, and every
 * node gets a full deadline again on resume.
 *
 * @module
 */
import type { Logger } from "../observe/logger.ts";
import type { NodeDownReason, NodeEvent, Unsubscribe } from "./bus.ts";

/** Tracks the other nodes of a cluster. */
export class Liveness {
  readonly #deadlineMs: number;
  readonly #internal: (event: NodeEvent) => void;
  readonly #logger: Logger;
  readonly #timers = new Map<string, ReturnType<typeof setTimeout> | undefined>();
  readonly #up = new Set<(event: NodeEvent) => void>();
  readonly #down = new Set<(event: NodeEvent) => void>();
  #paused = false;
  #stopped = false;

  /**
   * Create the tracker.
   *
   * @param deadlineMs silence after which a node is down
   * @param internal called first for every node declared down (the bus's own cleanup)
   * @param logger where a failing listener is reported
   */
  constructor(deadlineMs: number, internal: (event: NodeEvent) => void, logger: Logger) {
    this.#deadlineMs = deadlineMs;
    this.#internal = internal;
    this.#logger = logger;
  }

  /** Ids of the nodes alive. */
  live(): string[] {
    return [...this.#timers.keys()];
  }

  /** `nodeId` was heard from. */
  seen(nodeId: string): void {
    if (this.#stopped) return;
    const known = this.#timers.has(nodeId);
    clearTimeout(this.#timers.get(nodeId));
    this.#timers.set(nodeId, this.#paused ? undefined : this.#expiry(nodeId));
    if (!known) this.#emit(this.#up, { nodeId });
  }

  /** `nodeId` said goodbye. */
  left(nodeId: string): void {
    this.#declareDown(nodeId, "left");
  }

  /** Stop taking verdicts (our own link is down). */
  pause(): void {
    this.#paused = true;
    for (const [nodeId, timer] of this.#timers) {
      clearTimeout(timer);
      this.#timers.set(nodeId, undefined);
    }
  }

  /** Take verdicts again, every node with a fresh deadline. */
  resume(): void {
    if (!this.#paused || this.#stopped) return;
    this.#paused = false;
    for (const nodeId of this.#timers.keys()) this.#timers.set(nodeId, this.#expiry(nodeId));
  }

  /** Stop for good (the bus closed). */
  stop(): void {
    this.#stopped = true;
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }

  /** Call `listener` when a node is first heard from. */
  onUp(listener: (event: NodeEvent) => void): Unsubscribe {
    this.#up.add(listener);
    return () => this.#up.delete(listener);
  }

  /** Call `listener` when a node is declared down. */
  onDown(listener: (event: NodeEvent) => void): Unsubscribe {
    this.#down.add(listener);
    return () => this.#down.delete(listener);
  }

  #expiry(nodeId: string): ReturnType<typeof setTimeout> {
    return setTimeout(() => this.#declareDown(nodeId, "silent"), this.#deadlineMs);
  }

  #declareDown(nodeId: string, reason: NodeDownReason): void {
    if (!this.#timers.has(nodeId)) return;
    clearTimeout(this.#timers.get(nodeId));
    this.#timers.delete(nodeId);
    const event = { nodeId, reason };
    this.#internal(event);
    this.#emit(this.#down, event);
  }

  #emit(listeners: Set<(event: NodeEvent) => void>, event: NodeEvent): void {
    for (const listener of listeners) {
      try {
        listener(event);
      } catch (error) {
        this.#logger.error("cluster bus: a node listener failed", { ...event, error });
      }
    }
  }
}
