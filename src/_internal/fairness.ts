/**
 * Fairness across connections on one event loop: how much one connection may
 * read or write in a row before it lets the others (and the accept loop,
 * timers and signal handlers) run.
 *
 * A socket that takes every byte at once (Bun's `write`, or Deno's while the
 * kernel buffer has room) resolves its promises on microtasks only, and a
 * chain of microtasks never returns to the event loop: one fast stream reader
 * could starve the whole process. So every read and write loop spends a
 * {@link LoopBudget} and, once a slice is used up, awaits
 * {@link yieldToEventLoop}.
 *
 * @module
 */

/** Bytes one connection may move in one direction before it yields. */
export const YIELD_AFTER_BYTES = 256 * 1024;

/** Frames one connection may move in one direction before it yields: small frames cost CPU, not bytes. */
export const YIELD_AFTER_FRAMES = 256;

/**
 * The longest stretch of busy yields before the busy connections all wait on
 * one timer together. A yield by `setImmediate` lets other callbacks run, but
 * a runtime whose loop always has work ready polls its sockets only every so
 * many turns (tokio's event interval, under Deno: 61 turns, which is 300 ms
 * when each turn does 5 ms of streaming); only a turn in which nothing is
 * ready makes it poll at once. Waiting on one shared timer gives it that
 * turn, at a cost of ~1 ms per interval to the busy connections only.
 */
export const PARK_INTERVAL_MS = 10;

type Immediate = (callback: () => void) => unknown;
const setImmediateFn = (globalThis as { setImmediate?: Immediate }).setImmediate;

let lastParkAt = 0;
let park: Promise<void> | undefined;

/** Whether the busy loops should wait on the shared timer now (or already do). */
function parkIsDue(): boolean {
  return park !== undefined || performance.now() - lastParkAt >= PARK_INTERVAL_MS;
}

/**
 * Resolve on a macrotask, after other connections' callbacks have had their
 * turn; at least every {@link PARK_INTERVAL_MS}, after a timer, so the
 * runtime has also polled every socket. `setImmediate` costs ~1–3 µs on Deno
 * and Bun; where there is none, every yield waits on a timer.
 */
export function yieldToEventLoop(): Promise<void> {
  if (park !== undefined) return park;
  if (setImmediateFn !== undefined && !parkIsDue()) {
    return new Promise((resolve) => setImmediateFn(resolve));
  }
  park = new Promise((resolve) => {
    const wait = () => setTimeout(() => unpark(resolve), PARK_MS);
    // The timer starts on the next turn, once every busy loop has joined the
    // park. Armed at once, it would expire during the rest of this turn (the
    // other loops' slices, ~5 ms of streaming on Deno), and the next turn
    // would run it at once: no turn would ever be empty, and Deno would go on
    // polling its sockets every 61 turns: beside five endless streams, a
    // probe's echo p50 was ~300 ms, and is 0.4–2 ms with the timer armed late.
    if (setImmediateFn !== undefined) setImmediateFn(wait);
    else wait();
  });
  return park;
}

/** The park's timer: 1 ms, as 0 may count as due at once, which is no empty turn. */
const PARK_MS = 1;

function unpark(resolve: () => void): void {
  park = undefined;
  lastParkAt = performance.now();
  resolve();
}

/**
 * Resolve on the next turn of the event loop (`setImmediate`, else a 0 ms
 * timer): for a loop that wants what other callbacks produce meanwhile, as a
 * writer coalescing the frames of a producer that is still going.
 */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) =>
    setImmediateFn !== undefined ? setImmediateFn(resolve) : setTimeout(resolve, 0)
  );
}

/** Event-loop turns seen so far (advanced by {@link watchTurns}' immediate). */
let turn = 0;
let turnWatched = false;

/**
 * The current turn, making sure the next turn will be counted: at most one
 * immediate is pending for the whole process, however many loops ask.
 */
export function watchTurns(): number {
  if (!turnWatched && setImmediateFn !== undefined) {
    turnWatched = true;
    setImmediateFn(() => {
      turnWatched = false;
      turn++;
    });
  }
  return turn;
}

/**
 * Whether the event loop is still in `since`, a turn from
 * {@link watchTurns}: no macrotask has run in between. Without a
 * `setImmediate` to count turns with, never.
 */
export function stillInTurn(since: number): boolean {
  return setImmediateFn !== undefined && since === turn;
}

/**
 * What one read or write loop may still do before it must yield. One number
 * per limit and no clock: spending is two subtractions on the hot path. A
 * slice during which the event loop turned anyway (the loop waited on I/O,
 * as request/response traffic does) needs no yield of its own: only a slice
 * that ran within one turn does, so the yields cost only the loops that
 * would otherwise hold the event loop.
 */
export class LoopBudget {
  readonly #bytes: number;
  readonly #frames: number;
  #bytesLeft: number;
  #framesLeft: number;
  #sliceTurn: number;

  /**
   * @param bytes bytes per slice
   * @param frames frames per slice
   */
  constructor(bytes: number = YIELD_AFTER_BYTES, frames: number = YIELD_AFTER_FRAMES) {
    this.#bytes = this.#bytesLeft = bytes;
    this.#frames = this.#framesLeft = frames;
    this.#sliceTurn = watchTurns();
  }

  /**
   * Charge `bytes` and `frames` moved. Returns a promise to await when the
   * slice is used up within one turn of the event loop (the budget is
   * refilled at once), else `undefined`.
   */
  spend(bytes: number, frames: number): Promise<void> | undefined {
    this.#bytesLeft -= bytes;
    this.#framesLeft -= frames;
    if (this.#bytesLeft > 0 && this.#framesLeft > 0) return undefined;
    this.#bytesLeft = this.#bytes;
    this.#framesLeft = this.#frames;
    const heldTheLoop = this.#sliceTurn === turn;
    this.#sliceTurn = watchTurns();
    // Even a loop that let others run may have to join the park: a loop kept
    // busy by I/O is exactly the one whose sockets the runtime stops polling.
    return heldTheLoop || parkIsDue() ? yieldToEventLoop() : undefined;
  }
}
