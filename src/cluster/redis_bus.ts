/**
 * `RedisBus`: the cluster bus on Redis pub/sub, through the official
 * node-redis client (`@redis/client`, loaded only when a bus connects).
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { z } from "zod";
import { intInRange, parseOptions } from "../_internal/options.ts";
import type { ClusterBus } from "./bus.ts";
import {
  BusCore,
  type BusOptions,
  busOptionsShape,
  type BusWire,
  randomNodeId,
} from "./bus_core.ts";
import { ClusterUnavailableError, NodeIdTakenError } from "./errors.ts";

/** Options of {@link RedisBus.connect}. */
export interface RedisBusOptions extends BusOptions {
  /** The Redis server, e.g. `"redis://127.0.0.1:6379"` (`rediss://` for TLS). */
  url: string;
  /** Prefix of every channel and key the bus uses. Default `"wireframe"`. */
  prefix?: string;
  /** Give up the first connection after this long, in ms. Default 5,000. */
  connectTimeoutMs?: number;
  /** First reconnection delay, in ms; it doubles up to `maxReconnectDelayMs`. Default 50. */
  minReconnectDelayMs?: number;
  /** Longest reconnection delay, in ms. Default 2,000. */
  maxReconnectDelayMs?: number;
}

const optionsSchema = z.strictObject({
  ...busOptionsShape,
  url: z.string().regex(/^rediss?:\/\//, { error: "must be a redis:// or rediss:// URL" }),
  prefix: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, {
    error: "must be 1-64 letters, digits, '_', '.' or '-'",
  }).default("wireframe"),
  connectTimeoutMs: intInRange(1, 600_000).default(5_000),
  minReconnectDelayMs: intInRange(1, 60_000).default(50),
  maxReconnectDelayMs: intInRange(1, 600_000).default(2_000),
});

/** The slice of a node-redis client the bus uses. */
interface RedisClient {
  readonly isReady: boolean;
  connect(): Promise<unknown>;
  publish(channel: string, message: Buffer): Promise<number>;
  set(
    key: string,
    value: string,
    options: { condition?: "NX"; expiration: { type: "PX"; value: number } },
  ): Promise<string | null>;
  subscribe(
    channels: string[],
    listener: (message: Buffer, channel: Buffer) => void,
    bufferMode: true,
  ): Promise<void>;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  del(key: string): Promise<number>;
  duplicate(): RedisClient;
  destroy(): void;
}

type CreateClient = (options: Record<string, unknown>) => RedisClient;

/**
 * The cluster bus on Redis. Two connections per node: one publishes and
 * runs commands, one is subscribed to `PREFIX:all` (publishes, heartbeats,
 * gathers) and `PREFIX:node:ID` (requests and replies to this node).
 *
 * When Redis goes away, every call that needs it rejects with
 * `ClusterUnavailableError` at once (node-redis's offline queue is off, so
 * nothing piles up), while local delivery goes on; the client reconnects
 * with exponential backoff (`minReconnectDelayMs` doubling to
 * `maxReconnectDelayMs`, with jitter) and resubscribes, and the bus is `up`
 * again once both connections are ready. What was published meanwhile is
 * lost for the other nodes (Redis pub/sub keeps nothing).
 *
 * @example
 * ```ts ignore
 * import { RedisBus } from "@wireframe/wireframe/cluster";
 *
 * await using bus = await RedisBus.connect({ url: "redis://127.0.0.1:6379" });
 * bus.subscribe("chat.*", (m) => console.log(m.origin, m.channel, m.payload));
 * await bus.publish("chat.lobby", new TextEncoder().encode("hello"));
 * ```
 */
export class RedisBus {
  private constructor() {}

  /**
   * Connect to Redis and join the cluster; resolves once subscribed.
   * @throws {ClusterUnavailableError} if Redis cannot be reached within `connectTimeoutMs`
   * @throws {NodeIdTakenError} if another live node holds the `nodeId` asked for
   * @throws {ConfigError} for an invalid option
   */
  static async connect(options: RedisBusOptions): Promise<ClusterBus> {
    const parsed = parseOptions("RedisBus.connect", optionsSchema, options);
    const nodeId = parsed.nodeId ?? randomNodeId();
    const { prefix } = parsed;
    const { createClient } = await import("@redis/client") as unknown as {
      createClient: CreateClient;
    };
    const reconnectStrategy = (retries: number) => {
      const delay = Math.min(parsed.minReconnectDelayMs * 2 ** retries, parsed.maxReconnectDelayMs);
      return Math.round(delay * (0.5 + Math.random() / 2));
    };
    const pub = createClient({
      url: parsed.url,
      disableOfflineQueue: true,
      socket: { reconnectStrategy, connectTimeout: parsed.connectTimeoutMs },
    });
    const sub = pub.duplicate();
    const core = new BusCore(nodeId, parsed);
    const allChannel = `${prefix}:all`;
    const nodeChannel = (id: string) => `${prefix}:node:${id}`;
    const claimKey = `${prefix}:nodeid:${nodeId}`;
    // One interval longer than the others wait before declaring this node down, so a restart
    // with the same id comes after every node forgot the old one (and its message ids).
    const ttl = parsed.heartbeatMs * (parsed.missedHeartbeats + 1);
    let attached = false;
    const linkChanged = (cause?: unknown) => {
      if (!attached) return;
      if (pub.isReady && sub.isReady) core.linkUp();
      else core.linkDown(cause);
    };
    for (const client of [pub, sub]) {
      // An 'error' listener is what keeps node-redis's socket errors from crashing the process.
      client.on("error", (error) => linkChanged(error));
      client.on("reconnecting", () => linkChanged());
      client.on("end", () => linkChanged());
      client.on("ready", () => linkChanged());
    }
    const receive = (message: Buffer) =>
      core.receive(new Uint8Array(message.buffer, message.byteOffset, message.byteLength));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new ClusterUnavailableError("connect", new Error(`${parsed.url} timed out`))),
        parsed.connectTimeoutMs,
      );
    });
    try {
      await Promise.race([Promise.all([pub.connect(), sub.connect()]), timedOut]);
      const claimed = await pub.set(claimKey, nodeId, {
        condition: "NX",
        expiration: { type: "PX", value: ttl },
      });
      if (claimed === null) throw new NodeIdTakenError(nodeId);
      await Promise.race([
        sub.subscribe([allChannel, nodeChannel(nodeId)], receive, true),
        timedOut,
      ]);
    } catch (error) {
      pub.destroy();
      sub.destroy();
      if (error instanceof NodeIdTakenError || error instanceof ClusterUnavailableError) {
        throw error;
      }
      throw new ClusterUnavailableError("connect", error);
    } finally {
      clearTimeout(timer);
    }
    const toBuffer = (bytes: Uint8Array) =>
      Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const wire: BusWire = {
      sendAll: (bytes) => pub.publish(allChannel, toBuffer(bytes)),
      sendTo: (id, bytes) => pub.publish(nodeChannel(id), toBuffer(bytes)),
      claim: async (key, ttlMs) =>
        await pub.set(`${prefix}:claim:${key}`, nodeId, {
          condition: "NX",
          expiration: { type: "PX", value: ttlMs },
        }) !== null,
      beat: async () => {
        await pub.set(claimKey, nodeId, { expiration: { type: "PX", value: ttl } });
      },
      close: async () => {
        // Give the node id back at once (a restart may reuse an explicit one).
        if (pub.isReady) await pub.del(claimKey).catch(() => {});
        pub.destroy();
        sub.destroy();
      },
    };
    attached = true;
    core.attach(wire);
    return core;
  }
}
