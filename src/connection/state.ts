/**
 * `ConnectionState`: a server connection's life as one value, with the
 * transitions it may take written down as a table.
 *
 * @module
 */

/**
 * Where a connection is in its life:
 *
 * | phase      | reads the socket            | handles frames            | pushes   | may become                        |
 * | ---------- | --------------------------- | ------------------------- | -------- | --------------------------------- |
 * | `opening`  | the preamble only           | no (preamble, setup run)  | accepted | `handling`, `draining`, `closing` |
 * | `reading`  | waits for the next bytes    | no                        | accepted | `handling`, `draining`, `closing` |
 * | `handling` | no                          | the frames of one read    | accepted | `reading`, `draining`, `closing`  |
 * | `draining` | for a conversation only     | only the one in flight    | accepted | `closing`                         |
 * | `closing`  | discards until the peer's EOF | no                      | refused  | `closed`                          |
 * | `closed`   | no                          | no                        | refused  | —                                 |
 *
 * A command whose handler receives frames (a conversation) keeps reading
 * while it runs: the connection moves between `reading` and `handling` with
 * that command in flight, and a drain then waits for it in `draining`.
 *
 * `closing` starts the graceful close: queued pushes go out, then our FIN;
 * the socket closes at the peer's EOF or at a deadline. A forced close is the
 * same phase with in-flight work cancelled and queued pushes dead-lettered.
 */
export type ConnectionPhase =
  | "opening"
  | "reading"
  | "handling"
  | "draining"
  | "closing"
  | "closed";

const NEXT: Readonly<Record<ConnectionPhase, readonly ConnectionPhase[]>> = {
  // opening → draining: setup closed its connection (`ctx.close()`); the greeting still goes out.
  opening: ["handling", "draining", "closing", "closed"],
  reading: ["handling", "draining", "closing", "closed"],
  handling: ["reading", "draining", "closing", "closed"],
  draining: ["closing", "closed"],
  closing: ["closed"],
  closed: [],
};

/**
 * `NEXT` as one object of flags per phase: a connection changes phase twice
 * per socket read, and on Bun this lookup costs ~1.5 ns where `Set.has`
 * cost ~20 (Deno: ~25 against ~28).
 */
const ALLOWED = Object.fromEntries(
  Object.entries(NEXT).map(([from, to]) => [from, Object.fromEntries(to.map((p) => [p, true]))]),
) as unknown as Readonly<Record<ConnectionPhase, Readonly<Partial<Record<ConnectionPhase, true>>>>>;

/** A transition the table does not allow: a bug in the connection, never the peer's doing. */
export class ConnectionStateError extends Error {
  /** The phase the connection was in. */
  readonly from: ConnectionPhase;
  /** The phase asked for. */
  readonly to: ConnectionPhase;

  /**
   * @param from the phase the connection was in
   * @param to the phase asked for
   */
  constructor(from: ConnectionPhase, to: ConnectionPhase) {
    // Fields, not parameter properties: Node.js strips types only.
    super(`connection state: ${from} → ${to} is not a transition`);
    this.from = from;
    this.to = to;
    this.name = "ConnectionStateError";
  }
}

/** One connection's phase, and the fault that is ending it, if one is. */
export class ConnectionState {
  #phase: ConnectionPhase = "opening";
  #failure: { readonly error: unknown } | undefined;

  /** The current phase. */
  get phase(): ConnectionPhase {
    return this.#phase;
  }

  /** True from `closing` on: pushes are refused and no frame is handled any more. */
  get isClosing(): boolean {
    return this.#phase === "closing" || this.#phase === "closed";
  }

  /** A fault raised outside the read loop (a re-assembly timeout) that ends the connection. */
  get failure(): { readonly error: unknown } | undefined {
    return this.#failure;
  }

  /**
   * Move to `next`.
   * @throws {ConnectionStateError} if the table does not allow it
   */
  to(next: ConnectionPhase): void {
    if (ALLOWED[this.#phase][next] !== true) throw new ConnectionStateError(this.#phase, next);
    this.#phase = next;
  }

  /** Record the fault that ends the connection; the first one stands. */
  fail(error: unknown): void {
    this.#failure ??= { error };
  }
}
