/**
 * `CloseDeadline`: the latest time a closing connection's socket is closed,
 * whatever the peer does.
 *
 * Every graceful close asks for one (the lingering close's 2 s), so under
 * connection churn a timer per connection would be armed and cleared
 * thousands of times a second. Deno keeps its timers in one Map, whose
 * replaced tables stay linked to their successors until a major GC (see
 * IdTable): each cleared timer, and what it referred to, survived minor GCs
 * (~0.5 KiB per connection). So the deadlines of one length share one timer,
 * in a queue ordered by time as they come (same length, so later asked is
 * later due), and a deadline met early is only marked.
 *
 * @module
 */

/** What a deadline closes: the connection's socket. */
interface Closable {
  close(): void;
}

/** One deadline asked for: the deadline it belongs to, and when it falls due. */
interface Entry {
  readonly deadline: CloseDeadline;
  readonly at: number;
}

/** The deadlines of one length, in the order they fall due, behind one timer. */
class DeadlineQueue {
  /** One per length in use: the linger and the forced linger, so this stays tiny. */
  static readonly #byLength = new Map<number, DeadlineQueue>();

  /** The queue of deadlines `ms` long. */
  static of(ms: number): DeadlineQueue {
    let queue = DeadlineQueue.#byLength.get(ms);
    if (queue === undefined) DeadlineQueue.#byLength.set(ms, queue = new DeadlineQueue());
    return queue;
  }

  /** Entries from `#head` on are pending; an array, not a Set or Map (see the module doc). */
  #entries: Entry[] = [];
  #head = 0;
  /** Pending entries whose deadline still wants them: the timer runs only while some do. */
  #live = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #firing = false;
  readonly #fire = (): void => {
    this.#timer = undefined;
    this.#firing = true;
    const now = performance.now();
    const entries = this.#entries;
    try {
      for (let entry = entries[this.#head]; entry !== undefined && entry.at <= now;) {
        entries[this.#head++] = DONE;
        if (entry.deadline.wants(entry.at)) entry.deadline.expire(); // which drops its entry
        entry = entries[this.#head];
      }
    } finally {
      this.#firing = false;
      if (this.#live === 0) this.#clear();
      else {
        this.#compact();
        this.#arm(now);
      }
    }
  };

  /** Fall due `at` (`performance.now()` time, `ms` from now): appended, as it is the latest. */
  add(deadline: CloseDeadline, at: number): void {
    this.#entries.push({ deadline, at });
    this.#live++;
    if (this.#timer === undefined && !this.#firing) this.#arm(performance.now());
  }

  /** An entry no longer wanted: it fell due, was met early, or an earlier one superseded it. */
  drop(): void {
    // Nobody waits: no timer may keep the process alive for deadlines met.
    if (--this.#live === 0 && !this.#firing) this.#clear();
  }

  #clear(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#entries = [];
    this.#head = 0;
  }

  /** Arm the timer for the first entry still wanted: one wake-up per deadline that is not met early. */
  #arm(now: number): void {
    if (this.#live === 0) return;
    const entries = this.#entries;
    let next = entries[this.#head];
    while (next !== undefined && !next.deadline.wants(next.at)) {
      entries[this.#head++] = DONE;
      next = entries[this.#head];
    }
    if (next !== undefined) this.#timer = setTimeout(this.#fire, Math.max(0, next.at - now));
  }

  /** Let go of the entries done, once they are most of the array. */
  #compact(): void {
    if (this.#head < 1024 || this.#head * 2 < this.#entries.length) return;
    this.#entries = this.#entries.slice(this.#head);
    this.#head = 0;
  }
}

/** What a done slot holds, so the array keeps no deadline alive. */
const DONE: Entry = { deadline: undefined as unknown as CloseDeadline, at: -Infinity };

/** Closes the socket at the earliest deadline asked for. */
export class CloseDeadline {
  /** Dropped by `cancel()`: a queued entry may outlive the connection by a deadline's length. */
  #socket: Closable | undefined;
  /** When the deadline falls due (`performance.now()` time), and the queue that holds it. */
  #at = Infinity;
  #queue: DeadlineQueue | undefined;

  /** @param socket what the deadline closes */
  constructor(socket: Closable) {
    this.#socket = socket;
  }

  /** Close `ms` from now at the latest; an earlier deadline stands. */
  within(ms: number): void {
    if (this.#socket === undefined) return; // cancelled: the socket is closed
    const at = performance.now() + ms;
    if (at >= this.#at) return;
    this.#queue?.drop();
    this.#at = at;
    this.#queue = DeadlineQueue.of(ms);
    this.#queue.add(this, at);
  }

  /** Whether the entry due `at` is the one this deadline waits for. */
  wants(at: number): boolean {
    return at === this.#at && this.#socket !== undefined;
  }

  /** The deadline passed: close the socket, unless it was cancelled. */
  expire(): void {
    const queue = this.#queue;
    this.#queue = undefined;
    queue?.drop();
    this.#socket?.close();
  }

  /** The socket is closed: the deadline is not needed any more, nor the socket. */
  cancel(): void {
    if (this.#socket === undefined) return;
    this.#socket = undefined;
    this.#queue?.drop();
    this.#queue = undefined;
  }
}
