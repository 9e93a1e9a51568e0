/**
 * `ClusterBus`: what every node of a cluster uses to reach the others —
 * publish to a channel, subscribe to channel patterns, ask one node (or all)
 * and wait for the answers, and know which nodes are alive.
 *
 * @module
 */

/** One message delivered to a subscriber. */
export interface BusMessage {
  /** The channel it was published on. */
  readonly channel: string;
  /** The node that published it (equal to `bus.nodeId` for a local publish). */
  readonly origin: string;
  /** The message id, unique within its origin (increasing). */
  readonly seq: number;
  /** The bytes published. A view: copy it to keep it past the handler. */
  readonly payload: Uint8Array;
}

/** A subscriber. It may be async; a throw or rejection is counted and logged, never rethrown. */
export type BusHandler = (message: BusMessage) => void | Promise<void>;

/** A responder: the reply's bytes for one request (throw to fail the request). */
export type BusResponder = (message: BusMessage) => Uint8Array | Promise<Uint8Array>;

/** Undo a `subscribe()` or `respond()`. */
export type Unsubscribe = () => void;

/** Options of {@link ClusterBus.request} and {@link ClusterBus.gather}. */
export interface RequestOptions {
  /** Give up after this long, in ms. Default: the bus's `requestTimeoutMs` (1,000). */
  timeoutMs?: number;
}

/** What {@link ClusterBus.gather} collected. */
export interface GatherResult {
  /** Replies by node id (this node's own included). */
  readonly replies: ReadonlyMap<string, Uint8Array>;
  /** Live nodes that did not answer within the timeout, or failed. */
  readonly missing: readonly string[];
  /** True when the broker could not be reached: `replies` holds this node's answer only. */
  readonly unavailable: boolean;
}

/** Why a node is considered gone. */
export type NodeDownReason = "silent" | "left";

/** A node joined or left the cluster. */
export interface NodeEvent {
  /** The node's id. */
  readonly nodeId: string;
  /** For a node that went down: it stopped sending heartbeats, or said goodbye. */
  readonly reason?: NodeDownReason;
}

/** The bus's counters (monotonic, since it started). */
export interface BusStats {
  /** Messages published (by `publish`, local delivery included). */
  published: number;
  /** Messages received from other nodes through the broker. */
  received: number;
  /** Deliveries to local subscribers. */
  delivered: number;
  /** Operations that failed with `ClusterUnavailableError`. */
  unavailable: number;
  /** Requests that timed out. */
  timeouts: number;
  /** Messages seen twice (same origin and id) and dropped. */
  duplicates: number;
  /** Bytes from the broker that were no bus message, dropped. */
  malformed: number;
  /** Subscribers and responders that threw. */
  handlerErrors: number;
  /** Times the broker connection was lost. */
  disconnects: number;
  /** Nodes declared down. */
  nodesDown: number;
}

/** The state of the bus's link to its broker. */
export type BusState = "up" | "down" | "closed";

/**
 * A cluster bus: how the nodes (processes, machines) of one cluster reach
 * each other. `RedisBus` implements it on Redis pub/sub; `MemoryBusHub`
 * connects buses inside one process (tests, examples).
 *
 * - **Publish** delivers to this node's matching subscribers directly, and
 *   once to every other node through the broker (never twice: a node ignores
 *   its own messages coming back, and any message id it has already seen).
 * - **Subscribe** takes a channel pattern (`*`, `?`, see `channelMatcher`).
 * - **Request** asks one node and waits for its reply; **gather** asks every
 *   node and returns what came back within the timeout.
 * - **Liveness**: every node sends a heartbeat each `heartbeatMs`; a node not
 *   heard from for `missedHeartbeats` intervals is declared down
 *   (`onNodeDown`), exactly as if it had said goodbye. While this node's own
 *   broker link is down, no verdict is taken: timers restart at reconnection.
 *
 * When the broker is unreachable, local delivery goes on; every operation
 * that needs another node rejects with `ClusterUnavailableError` at once
 * (nothing is buffered), and the bus reconnects with backoff and
 * resubscribes by itself.
 */
export interface ClusterBus extends AsyncDisposable {
  /** This node's id, unique in the cluster. */
  readonly nodeId: string;
  /** The broker link's state. */
  readonly state: BusState;
  /**
   * Deliver `payload` on `channel` to every matching subscriber of every
   * node. Resolves once handed to the broker.
   * @throws {ClusterUnavailableError} when the broker is unreachable (local subscribers got it)
   */
  publish(channel: string, payload: Uint8Array): Promise<void>;
  /** Receive the messages of every channel matching `pattern`, from every node. */
  subscribe(pattern: string, handler: BusHandler): Unsubscribe;
  /** Answer requests and gathers on `channel` (one responder per channel and node). */
  respond(channel: string, responder: BusResponder): Unsubscribe;
  /**
   * Ask node `nodeId` (possibly this one) and wait for its reply.
   * @throws {ClusterUnavailableError} the broker is unreachable
   * @throws {ClusterTimeoutError} no reply within the timeout
   * @throws {ClusterRequestError} no such node, it went down, no responder, or it failed
   */
  request(
    nodeId: string,
    channel: string,
    payload: Uint8Array,
    options?: RequestOptions,
  ): Promise<Uint8Array>;
  /** Ask every live node (this one included); never rejects. */
  gather(channel: string, payload: Uint8Array, options?: RequestOptions): Promise<GatherResult>;
  /** Ids of the nodes believed alive, this one first. */
  nodes(): string[];
  /** Call `listener` when a node is first heard from. */
  onNodeUp(listener: (event: NodeEvent) => void): Unsubscribe;
  /** Call `listener` when a node is declared down. */
  onNodeDown(listener: (event: NodeEvent) => void): Unsubscribe;
  /**
   * Claim a one-off job cluster-wide (e.g. "publish node X's wills"): true
   * for exactly one caller of the same `key` within `ttlMs`.
   * @throws {ClusterUnavailableError} when the broker is unreachable
   */
  claim(key: string, ttlMs: number): Promise<boolean>;
  /** A snapshot of the counters. */
  stats(): BusStats;
  /** Say goodbye to the other nodes and close the broker link. Idempotent. */
  close(): Promise<void>;
}
