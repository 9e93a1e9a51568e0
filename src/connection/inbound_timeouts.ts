/**
 * `InboundTimeouts`: the handshake, idle and slow-frame timers of one
 * connection.
 *
 * Cheap on the hot path: a socket read costs a counter bump and a branch,
 * never a clock read or a timer. The idle timer checks for progress four
 * times per period (so it expires between `idleMs` and 1.25 × `idleMs` after
 * the last frame); the slow-frame timer is armed only while a partial frame
 * is held, and expires when a whole period passes without a frame completing
 * (between `slowFrameMs` and twice that after the partial frame began).
 *
 * @module
 */
import type { ResolvedTimeouts, TimeoutReason } from "../app/timeouts.ts";

/** Idle checks per idle period. */
const IDLE_CHECKS = 4;

/** What the timers report to, and ask: the connection (one object, no callbacks). */
export interface TimeoutsOwner {
  /** A timeout expired: close the connection. Called at most once. */
  timedOut(reason: TimeoutReason, timeoutMs: number): void;
  /** True while the server waits for the peer (idle time counts only then). */
  readonly waitingForPeer: boolean;
}

/** What the timers of one connection are made from. */
export interface InboundTimeoutsOptions {
  readonly timeouts: ResolvedTimeouts;
  /** Told when a timeout expires, and asked whether the server waits for the peer. */
  readonly owner: TimeoutsOwner;
  /** True if the handshake ends at the first complete frame (an app without phases). */
  readonly handshakeIsFirstFrame: boolean;
}

/** The timers of one connection. */
export class InboundTimeouts {
  readonly #owner: TimeoutsOwner;
  readonly #handshakeMs: number;
  readonly #handshakeIsFirstFrame: boolean;
  readonly #slowFrameMs: number;
  #idleMs: number;
  #framesSeen = 0;
  #partialHeld = false;
  #expired = false;
  #handshakeTimer: ReturnType<typeof setTimeout> | undefined;
  #slowTimer: ReturnType<typeof setTimeout> | undefined;
  #slowMark = 0;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  #idleMark = 0;
  #idleQuiet = 0;

  constructor(options: InboundTimeoutsOptions) {
    this.#owner = options.owner;
    this.#handshakeMs = options.timeouts.handshakeMs;
    this.#handshakeIsFirstFrame = options.handshakeIsFirstFrame;
    this.#slowFrameMs = options.timeouts.slowFrameMs;
    this.#idleMs = options.timeouts.idleMs;
  }

  /** The connection was accepted: the handshake and idle clocks start. */
  start(): void {
    const handshakeMs = this.#handshakeMs;
    if (handshakeMs > 0) {
      this.#handshakeTimer = setTimeout(() => this.#expire("handshake", handshakeMs), handshakeMs);
    }
    this.#armIdle();
  }

  /** After each socket read: how many frames it completed, and whether one is still partial. */
  afterRead(frames: number, partialHeld: boolean): void {
    if (frames > 0) {
      this.#framesSeen += frames;
      if (this.#handshakeTimer !== undefined && this.#handshakeIsFirstFrame) {
        this.handshakeDone();
      }
    }
    this.#partialHeld = partialHeld;
    if (partialHeld && this.#slowTimer === undefined && this.#slowFrameMs > 0) this.#armSlow();
  }

  /** The handshake is over (the connection left its initial phase). */
  handshakeDone(): void {
    clearTimeout(this.#handshakeTimer);
    this.#handshakeTimer = undefined;
  }

  /** This connection's idle timeout from now on (0: off). */
  setIdle(ms: number): void {
    this.#idleMs = ms;
    clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
    this.#armIdle();
  }

  /** The connection is ending: no timer fires any more. */
  stop(): void {
    this.#expired = true;
    clearTimeout(this.#handshakeTimer);
    clearTimeout(this.#slowTimer);
    clearTimeout(this.#idleTimer);
  }

  #armSlow(): void {
    this.#slowMark = this.#framesSeen;
    this.#slowTimer = setTimeout(() => {
      this.#slowTimer = undefined;
      if (!this.#partialHeld) return;
      if (this.#framesSeen === this.#slowMark) this.#expire("slow-frame", this.#slowFrameMs);
      else this.#armSlow(); // frames are completing: a new partial one gets a whole period
    }, this.#slowFrameMs);
  }

  #armIdle(): void {
    const idleMs = this.#idleMs;
    if (idleMs <= 0 || this.#expired) return;
    this.#idleMark = this.#framesSeen;
    this.#idleQuiet = 0;
    const check = () => {
      if (this.#framesSeen !== this.#idleMark || !this.#owner.waitingForPeer) {
        this.#idleMark = this.#framesSeen;
        this.#idleQuiet = 0;
      } else if (++this.#idleQuiet >= IDLE_CHECKS) {
        this.#idleTimer = undefined;
        return this.#expire("idle", idleMs);
      }
      this.#idleTimer = setTimeout(check, Math.max(1, Math.ceil(idleMs / IDLE_CHECKS)));
    };
    this.#idleTimer = setTimeout(check, Math.max(1, Math.ceil(idleMs / IDLE_CHECKS)));
  }

  #expire(reason: TimeoutReason, timeoutMs: number): void {
    if (this.#expired) return;
    this.stop();
    this.#owner.timedOut(reason, timeoutMs);
  }
}
