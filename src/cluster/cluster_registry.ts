/**
 * `ClusterRegistry`: the live connections of every node of a cluster, for
 * broadcasts, pushes to one connection wherever it is, and listings.
 *
 * @module
 */
import { z } from "zod";
import { intInRange, parseOptions } from "../_internal/options.ts";
import type { Envelope } from "../codec/envelope.ts";
import { PushError } from "../push/errors.ts";
import type { PolicyPushResult, PushPolicy, PushPriority } from "../push/push_handle.ts";
import type { SessionRegistry } from "../session/registry.ts";
import type { BusMessage, ClusterBus, Unsubscribe } from "./bus.ts";
import { ClusterTimeoutError, ClusterUnavailableError } from "./errors.ts";
import { ClusterRequestError } from "./errors.ts";

/** A connection id unique across the cluster: `"NODE:LOCAL"`, e.g. `"a1b2c3:17"`. */
export type ClusterConnectionId = string;

/** Options of {@link ClusterRegistry}. */
export interface ClusterRegistryOptions {
  /** The bus to the other nodes. */
  bus: ClusterBus;
  /** This node's registry (the one given to `app.sessions(...)`). */
  sessions: SessionRegistry;
  /** Default timeout of remote pushes and listings, in ms. Default 1,000. */
  timeoutMs?: number;
}

/** Options of {@link ClusterRegistry.push}. */
export interface ClusterPushOptions {
  /** `"high"` (default) or `"low"`. */
  priority?: PushPriority;
  /** Apply this policy when the queue is full; without one the push waits for room. */
  policy?: PushPolicy;
  /** How long to wait for room (and, for a remote connection, for its node's answer). */
  timeoutMs?: number;
}

/** Options of {@link ClusterRegistry.broadcast}. */
export interface ClusterBroadcastOptions {
  /** `"high"` (default) or `"low"`. */
  priority?: PushPriority;
  /** What each connection does with a full queue (as `SessionRegistry.broadcast`). */
  policy: PushPolicy;
}

/** What {@link ClusterRegistry.broadcast} did. */
export interface ClusterBroadcastResult {
  /** Connections of this node the frame was queued for. */
  readonly local: number;
  /** `"published"`: handed to the other nodes; `"unavailable"`: the bus is down, they miss it. */
  readonly remote: "published" | "unavailable";
}

/** What {@link ClusterRegistry.list} found. */
export interface ClusterListing {
  /** Live connections of the nodes that answered. */
  readonly ids: ClusterConnectionId[];
  /** Nodes that answered (this one included). */
  readonly nodes: string[];
  /** Live nodes that did not answer within the timeout. */
  readonly missing: string[];
}

/** The registry's counters. */
export interface ClusterRegistryStats {
  /** Broadcasts the other nodes missed because the bus was down. */
  broadcastsLost: number;
  /** Remote pushes that failed with `ClusterUnavailableError` or `ClusterTimeoutError`. */
  remotePushFailures: number;
  /** Frames received from other nodes that could not be decoded, dropped. */
  malformed: number;
}

const optionsSchema = z.strictObject({
  bus: z.custom<ClusterBus>((v) => typeof (v as ClusterBus)?.publish === "function", {
    error: "must be a ClusterBus",
  }),
  sessions: z.custom<SessionRegistry>(
    (v) => typeof (v as SessionRegistry)?.broadcast === "function",
    { error: "must be a SessionRegistry" },
  ),
  timeoutMs: intInRange(1, 600_000).default(1_000),
});

const BROADCAST = "_wf.registry.broadcast";
const PUSH = "_wf.registry.push";
const LIST = "_wf.registry.list";
const PRIORITIES: readonly PushPriority[] = ["high", "low"];
const POLICIES: readonly (PushPolicy | undefined)[] = [
  undefined,
  "error-if-full",
  "drop-if-full",
  "warn-and-drop-if-full",
];
const OUTCOMES = ["queued", "dropped", "closed", "full", "timeout"] as const;
type Outcome = typeof OUTCOMES[number];
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Every live connection of every node, through a {@link ClusterBus}:
 *
 * - ids are `"NODE:LOCAL"` (`idOf()`), unique across the cluster since node
 *   ids are;
 * - `broadcast()` queues a frame on this node's connections and sends it
 *   once through the bus to every other node, where the same priority and
 *   policy apply (`SessionRegistry.broadcast` on each);
 * - `push()` reaches one connection on any node; a gone connection (or a
 *   node no longer there) rejects with `PushError("closed")`, as locally;
 * - `list()` asks every node and returns what answered within the timeout.
 *
 * When the bus is down, local delivery goes on; `broadcast()` reports
 * `remote: "unavailable"` and `push()` to another node rejects with
 * `ClusterUnavailableError`; both are counted in `stats()`. Nothing is
 * buffered for later.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SessionRegistry, WireframeApp, WireframeClient, WireframeServer } from "@wireframe/wireframe";
 * import { ClusterRegistry, MemoryBusHub } from "@wireframe/wireframe/cluster";
 *
 * const hub = new MemoryBusHub(); // RedisBus.connect({ url }) across processes
 * async function node(nodeId: string) {
 *   const sessions = new SessionRegistry();
 *   const server = new WireframeServer(new WireframeApp().sessions(sessions).route(1, () => new Uint8Array(0)));
 *   const bus = hub.connect({ nodeId });
 *   const registry = new ClusterRegistry({ bus, sessions });
 *   return { server, bus, registry, port: (await server.listen()).port };
 * }
 * const a = await node("a");
 * const b = await node("b");
 * await using client = await WireframeClient.connect({ port: b.port });
 * await client.request(1, new Uint8Array(0)); // registered on node b
 *
 * const { ids } = await a.registry.list();
 * assert.deepEqual(ids, ["b:1"]);
 * await a.registry.push("b:1", { id: 9, payload: Uint8Array.of(1) }); // from node a
 * for await (const push of client.pushes()) {
 *   assert.equal(push.id, 9);
 *   break;
 * }
 * for (const n of [a, b]) {
 *   n.registry.close();
 *   await n.bus.close();
 *   await n.server.shutdown();
 * }
 * ```
 */
export class ClusterRegistry {
  readonly #bus: ClusterBus;
  readonly #sessions: SessionRegistry;
  readonly #timeoutMs: number;
  readonly #unsubscribe: Unsubscribe[];
  readonly #stats: ClusterRegistryStats = {
    broadcastsLost: 0,
    remotePushFailures: 0,
    malformed: 0,
  };

  /**
   * Join the cluster's registry: start answering other nodes' pushes,
   * broadcasts and listings for `sessions`.
   *
   * @param options the bus, this node's registry and the default timeout
   * @throws {ConfigError} for an invalid option
   */
  constructor(options: ClusterRegistryOptions) {
    const parsed = parseOptions("ClusterRegistry", optionsSchema, options);
    this.#bus = parsed.bus;
    this.#sessions = parsed.sessions;
    this.#timeoutMs = parsed.timeoutMs;
    this.#unsubscribe = [
      this.#bus.subscribe(BROADCAST, (message) => this.#broadcastHere(message)),
      this.#bus.respond(PUSH, (message) => this.#pushHere(message)),
      this.#bus.respond(LIST, () => encoder.encode(this.#sessions.ids().join(","))),
    ];
  }

  /** This node's id. */
  get nodeId(): string {
    return this.#bus.nodeId;
  }

  /** The cluster-wide id of this node's connection `connectionId`. */
  idOf(connectionId: number): ClusterConnectionId {
    return `${this.#bus.nodeId}:${connectionId}`;
  }

  /**
   * Queue `frame` on every live connection of every node.
   * Resolves with this node's count and whether the others were reached.
   */
  async broadcast(
    frame: Envelope,
    options: ClusterBroadcastOptions,
  ): Promise<ClusterBroadcastResult> {
    const local = this.#sessions.broadcast(frame, options);
    let remote: ClusterBroadcastResult["remote"] = "published";
    try {
      const flags = PRIORITIES.indexOf(options.priority ?? "high") |
        (POLICIES.indexOf(options.policy) << 1);
      await this.#bus.publish(BROADCAST, encodeFrame(flags, 0, frame));
    } catch (error) {
      if (!(error instanceof ClusterUnavailableError)) throw error;
      this.#stats.broadcastsLost++;
      remote = "unavailable";
    }
    return { local: await local, remote };
  }

  /**
   * Push `frame` to connection `id` on whichever node holds it.
   * @throws {PushError} `closed` if the connection (or its node) is gone; `full` under `"error-if-full"`
   * @throws {ClusterUnavailableError} the connection is on another node and the bus is down
   * @throws {ClusterTimeoutError} no room (or no answer from its node) within the timeout
   */
  async push(
    id: ClusterConnectionId,
    frame: Envelope,
    options: ClusterPushOptions = {},
  ): Promise<PolicyPushResult> {
    const at = id.lastIndexOf(":");
    const nodeId = id.slice(0, at);
    const connectionId = Number(id.slice(at + 1));
    if (at < 1 || !Number.isSafeInteger(connectionId)) throw new PushError("closed");
    const timeoutMs = options.timeoutMs ?? this.#timeoutMs;
    let outcome: Outcome;
    if (nodeId === this.#bus.nodeId) {
      outcome = await this.#pushLocal(
        connectionId,
        frame,
        options.priority,
        options.policy,
        timeoutMs,
      );
    } else {
      const flags = PRIORITIES.indexOf(options.priority ?? "high") |
        (POLICIES.indexOf(options.policy) << 1);
      try {
        // The node waits for room a little less than we wait for its answer.
        const wait = Math.max(1, Math.floor(timeoutMs * 0.9));
        const reply = await this.#bus.request(
          nodeId,
          PUSH,
          encodeFrame(flags, connectionId, frame, wait),
          { timeoutMs },
        );
        outcome = OUTCOMES[reply[0] ?? 2] ?? "closed";
      } catch (error) {
        if (error instanceof ClusterRequestError) {
          outcome = "closed"; // the node is gone, or runs no registry: the connection is not there
        } else {
          if (error instanceof ClusterUnavailableError || error instanceof ClusterTimeoutError) {
            this.#stats.remotePushFailures++;
          }
          throw error;
        }
      }
    }
    switch (outcome) {
      case "queued":
      case "dropped":
        return outcome;
      case "timeout":
        this.#stats.remotePushFailures++;
        throw new ClusterTimeoutError(PUSH, nodeId, timeoutMs);
      default:
        throw new PushError(outcome);
    }
  }

  /** Ask every node for its live connections; answers within the timeout with what it got. */
  async list(options: { timeoutMs?: number } = {}): Promise<ClusterListing> {
    const result = await this.#bus.gather(LIST, new Uint8Array(0), {
      timeoutMs: options.timeoutMs ?? this.#timeoutMs,
    });
    const ids: ClusterConnectionId[] = [];
    for (const [nodeId, reply] of result.replies) {
      const text = decoder.decode(reply);
      if (text !== "") { for (const local of text.split(",")) ids.push(`${nodeId}:${local}`); }
    }
    return { ids, nodes: [...result.replies.keys()], missing: [...result.missing] };
  }

  /** A snapshot of the counters. */
  stats(): ClusterRegistryStats {
    return { ...this.#stats };
  }

  /** Stop answering other nodes (the bus stays open). */
  close(): void {
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
  }

  async #pushLocal(
    connectionId: number,
    frame: Envelope,
    priority: PushPriority | undefined,
    policy: PushPolicy | undefined,
    waitMs: number,
  ): Promise<Outcome> {
    const handle = this.#sessions.get(connectionId);
    if (handle === undefined) return "closed";
    const signal = AbortSignal.timeout(waitMs);
    try {
      if (policy === undefined) {
        await handle.push(frame, { priority: priority ?? "high", signal });
        return "queued";
      }
      return await handle.pushWithPolicy(frame, { priority: priority ?? "high", policy, signal });
    } catch (error) {
      if (error instanceof PushError) return error.reason === "full" ? "full" : "closed";
      if (signal.aborted) return "timeout";
      throw error;
    }
  }

  async #pushHere(message: BusMessage): Promise<Uint8Array> {
    const decoded = decodeFrame(message.payload);
    if (decoded === undefined) {
      this.#stats.malformed++;
      return Uint8Array.of(OUTCOMES.indexOf("closed"));
    }
    const { flags, connectionId, frame, waitMs } = decoded;
    const outcome = await this.#pushLocal(
      connectionId,
      frame,
      PRIORITIES[flags & 1],
      POLICIES[(flags >> 1) & 3],
      waitMs,
    );
    return Uint8Array.of(OUTCOMES.indexOf(outcome));
  }

  async #broadcastHere(message: BusMessage): Promise<void> {
    if (message.origin === this.#bus.nodeId) return; // broadcast() delivered it here itself
    const decoded = decodeFrame(message.payload);
    const policy = decoded && POLICIES[(decoded.flags >> 1) & 3];
    if (decoded === undefined || policy === undefined) {
      this.#stats.malformed++;
      return;
    }
    await this.#sessions.broadcast(decoded.frame, {
      priority: PRIORITIES[decoded.flags & 1],
      policy,
    });
  }
}

// flags:u8 (bit 0 priority low, bits 1-2 policy, bit 3 correlation) connection:f64 waitMs:u32
// id:u32 [correlation:u64] payload
function encodeFrame(flags: number, connectionId: number, frame: Envelope, waitMs = 0): Uint8Array {
  const hasCorrelation = frame.correlationId !== undefined;
  const head = 1 + 8 + 4 + 4 + (hasCorrelation ? 8 : 0);
  const out = new Uint8Array(head + frame.payload.length);
  const view = new DataView(out.buffer);
  out[0] = flags | (hasCorrelation ? 8 : 0);
  view.setFloat64(1, connectionId);
  view.setUint32(9, waitMs);
  view.setUint32(13, frame.id);
  if (hasCorrelation) view.setBigUint64(17, frame.correlationId!);
  out.set(frame.payload, head);
  return out;
}

function decodeFrame(
  bytes: Uint8Array,
): { flags: number; connectionId: number; waitMs: number; frame: Envelope } | undefined {
  if (bytes.length < 17) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const flags = bytes[0]!;
  const hasCorrelation = (flags & 8) !== 0;
  if (hasCorrelation && bytes.length < 25) return undefined;
  const connectionId = view.getFloat64(1);
  if (!Number.isSafeInteger(connectionId)) return undefined;
  const head = hasCorrelation ? 25 : 17;
  // Copied: the frame may wait in a push queue past this message.
  const payload = bytes.slice(head);
  const frame: Envelope = hasCorrelation
    ? { id: view.getUint32(13), correlationId: view.getBigUint64(17), payload }
    : { id: view.getUint32(13), payload };
  return { flags: flags & 7, connectionId, waitMs: view.getUint32(9), frame };
}
