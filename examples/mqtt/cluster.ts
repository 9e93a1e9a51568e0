/**
 * The MQTT broker in cluster mode (`broker.ts --redis URL`): several broker
 * processes, on one machine or many, joined through Redis with
 * `@wireframe/wireframe/cluster`.
 *
 * - **Publishes**: every message accepted on a node (from a client or a
 *   will) is delivered to that node's subscribers, and once through the
 *   cluster bus to every other node, which delivers it to its own with the
 *   usual QoS rules (each node keeps its sessions' in-flight windows).
 * - **Retained messages**: replicated in memory on every live node, and
 *   kept in the Redis hash `PREFIX:mqtt:retained`, which a node that
 *   starts loads.
 * - **Sessions**: a CONNECT asks every other node (`gather`) for the
 *   client id's session. The node that holds it closes the connection there,
 *   if any (a takeover: its will goes out), and hands over the session —
 *   subscriptions, messages in flight and queued, QoS 2 ids — which this
 *   node then resumes. A persistent session whose client is offline stays on
 *   the node it was last on, queueing what is published anywhere, until the
 *   client comes back (to any node). It lives in that node's memory, and
 *   in Redis as a snapshot (below; see docs/guides/scaling.md).
 * - **Wills**: each live connection's will is kept in the Redis hash
 *   `PREFIX:mqtt:wills:NODE`; when a node is declared down (no heartbeat
 *   for 3 intervals), the survivor that claims it publishes those wills.
 * - **Surviving a node**: every heartbeat interval, each node writes the
 *   persistent sessions that changed to the Redis hash
 *   `PREFIX:mqtt:sessions:NODE`; the survivor that claims a dead node adopts
 *   its sessions from there (subscriptions, queued and in-flight messages as
 *   of the last snapshot) and goes on queueing for them, so their clients
 *   find them on any node.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import {
  type ClusterBus,
  ClusterUnavailableError,
  RedisBus,
  type RedisBusOptions,
} from "@wireframe/wireframe/cluster";
import type { MqttClusterHooks } from "./app.ts";
import type { MqttBroker } from "./mqtt_broker.ts";
import type { Message, QoS } from "./packets.ts";
import { MemorySessionStore, Session, type SessionStore } from "./sessions.ts";

const PUBLISH = "mqtt.publish";
const TAKE = "mqtt.session.take";
const HELD = "mqtt.session.held";

/** Counters of cluster mode. */
export interface MqttClusterStats {
  /** Messages this node could not hand to the others (Redis down): they reached this node only. */
  relayFailures: number;
  /** Sessions taken over from another node. */
  sessionsTaken: number;
  /** Wills of dead nodes this node published. */
  willsOfDeadNodes: number;
  /** Storage writes (retained, wills, session snapshots) that failed (Redis down). */
  storeFailures: number;
  /** Persistent sessions of dead nodes this node adopted. */
  sessionsAdopted: number;
}

interface StoredMessage {
  topic: string;
  payload: string;
  qos: QoS;
  retain: boolean;
}

const toStored = (m: Message): StoredMessage => ({
  topic: m.topic,
  payload: Buffer.from(m.payload).toString("base64"),
  qos: m.qos,
  retain: m.retain,
});
const fromStored = (s: StoredMessage): Message => ({
  topic: s.topic,
  payload: new Uint8Array(Buffer.from(s.payload, "base64")),
  qos: s.qos,
  retain: s.retain,
});
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const json = (value: unknown) => encoder.encode(JSON.stringify(value));

/** The slice of a node-redis client used for storage. */
interface RedisKv {
  hSet(key: string, field: string, value: string): Promise<number>;
  hDel(key: string, field: string): Promise<number>;
  hGetAll(key: string): Promise<Record<string, string>>;
  del(key: string): Promise<number>;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  connect(): Promise<unknown>;
  destroy(): void;
}

/** One broker node of a cluster. */
export class MqttCluster {
  /** The bus to the other nodes. */
  readonly bus: ClusterBus;
  /** Counters. */
  readonly stats: MqttClusterStats = {
    relayFailures: 0,
    sessionsTaken: 0,
    willsOfDeadNodes: 0,
    storeFailures: 0,
    sessionsAdopted: 0,
  };
  readonly #kv: RedisKv;
  readonly #prefix: string;
  #broker: MqttBroker | undefined;
  /** clientId → the local connection whose will is stored. */
  readonly #willOwners = new Map<string, number>();
  /** This node's sessions (the broker's store). */
  readonly #sessions = new MemorySessionStore();
  /** clientId → the snapshot last written to Redis. */
  readonly #written = new Map<string, string>();
  #snapshots: ReturnType<typeof setInterval> | undefined;
  #flushing = false;

  readonly #heartbeatMs: number;

  private constructor(bus: ClusterBus, kv: RedisKv, prefix: string, heartbeatMs: number) {
    this.bus = bus;
    this.#kv = kv;
    this.#prefix = prefix;
    this.#heartbeatMs = heartbeatMs;
  }

  /** Join the cluster on Redis at `url`. */
  static async start(options: RedisBusOptions): Promise<MqttCluster> {
    const bus = await RedisBus.connect(options);
    const { createClient } = await import("@redis/client") as unknown as {
      createClient(options: Record<string, unknown>): RedisKv;
    };
    const kv = createClient({
      url: options.url,
      disableOfflineQueue: true,
      socket: { reconnectStrategy: (n: number) => Math.min(50 * 2 ** n, 2_000) },
    });
    kv.on("error", () => {}); // counted where a write fails; the client reconnects
    await kv.connect();
    return new MqttCluster(bus, kv, options.prefix ?? "wireframe", options.heartbeatMs ?? 1_000);
  }

  /** The options to give `mqttApp`: the relay, the session store and the app hooks. */
  appOptions(): {
    relay: (message: Message) => void;
    sessionStore: SessionStore;
    cluster: MqttClusterHooks;
  } {
    return {
      relay: (message) => this.#relay(message),
      sessionStore: this.#sessions,
      cluster: {
        takeSession: (clientId) => this.#takeSession(clientId),
        connected: (clientId, connectionId, will) => this.#connected(clientId, connectionId, will),
        ended: (clientId, connectionId) => this.#ended(clientId, connectionId),
      },
    };
  }

  /** Start serving the other nodes for `broker`, and load the retained messages from Redis. */
  async attach(broker: MqttBroker): Promise<void> {
    this.#broker = broker;
    for (const stored of Object.values(await this.#kv.hGetAll(this.#retainedKey()))) {
      broker.retained.retain(fromStored(JSON.parse(stored)));
    }
    this.bus.subscribe(PUBLISH, (m) => {
      if (m.origin === this.bus.nodeId) return; // delivered here already
      broker.publishFromPeer(fromStored(JSON.parse(decoder.decode(m.payload))));
    });
    this.bus.respond(
      HELD,
      (m) => Uint8Array.of(this.#sessions.get(decoder.decode(m.payload)) ? 1 : 0),
    );
    this.bus.respond(TAKE, (m) =>
      // Our own gather asks us too: the app handles a local session itself.
      json(m.origin === this.bus.nodeId ? null : this.#giveSession(decoder.decode(m.payload))));
    this.bus.onNodeDown((event) => void this.#takeOver(event.nodeId));
    this.#snapshots = setInterval(() => void this.#flush(), this.#heartbeatMs);
  }

  /** Leave the cluster (this node's wills are discarded: a graceful stop published them). */
  async close(): Promise<void> {
    clearInterval(this.#snapshots);
    await this.#kv.del(this.#willsKey(this.bus.nodeId)).catch(() => {});
    await this.bus.close();
    this.#kv.destroy();
  }

  #retainedKey(): string {
    return `${this.#prefix}:mqtt:retained`;
  }

  #willsKey(nodeId: string): string {
    return `${this.#prefix}:mqtt:wills:${nodeId}`;
  }

  #sessionsKey(nodeId: string): string {
    return `${this.#prefix}:mqtt:sessions:${nodeId}`;
  }

  /** Write the persistent sessions that changed since the last snapshot; drop the gone ones. */
  async #flush(): Promise<void> {
    if (this.#flushing || this.bus.state !== "up") return;
    this.#flushing = true;
    const key = this.#sessionsKey(this.bus.nodeId);
    try {
      const seen = new Set<string>();
      for (const session of this.#sessions.all()) {
        if (session.clean) continue;
        seen.add(session.clientId);
        const snapshot = JSON.stringify(snapshotOf(session));
        if (this.#written.get(session.clientId) === snapshot) continue;
        await this.#kv.hSet(key, session.clientId, snapshot);
        this.#written.set(session.clientId, snapshot);
      }
      for (const clientId of [...this.#written.keys()]) {
        if (seen.has(clientId)) continue;
        await this.#kv.hDel(key, clientId);
        this.#written.delete(clientId);
      }
    } catch {
      this.stats.storeFailures++; // tried again at the next interval
    } finally {
      this.#flushing = false;
    }
  }

  /** Put a handed-over or adopted session in this broker, subscriptions included. */
  #install(clientId: string, given: GivenSession): void {
    const broker = this.#broker!;
    const local = broker.sessions.get(clientId);
    if (local !== undefined) broker.endSession(local);
    const session = new Session(clientId, false);
    for (const [filter, qos] of given.subscriptions) broker.subscribe(session, filter, qos);
    for (const entry of given.inflight) {
      session.inflight.set(entry.packetId, { ...entry, message: fromStored(entry.message) });
    }
    for (const queued of given.queue) {
      session.queue.push({ ...queued, message: fromStored(queued.message) });
    }
    for (const id of given.incoming) session.incoming.add(id);
    broker.sessions.set(session);
  }

  #store(write: Promise<unknown>): void {
    write.catch(() => this.stats.storeFailures++);
  }

  #relay(message: Message): void {
    if (message.retain) {
      this.#store(
        message.payload.length === 0
          ? this.#kv.hDel(this.#retainedKey(), message.topic)
          : this.#kv.hSet(this.#retainedKey(), message.topic, JSON.stringify(toStored(message))),
      );
    }
    this.bus.publish(PUBLISH, json(toStored(message))).catch((error) => {
      if (error instanceof ClusterUnavailableError) this.stats.relayFailures++;
    });
  }

  async #takeSession(clientId: string): Promise<void> {
    const result = await this.bus.gather(TAKE, encoder.encode(clientId));
    for (const [nodeId, reply] of result.replies) {
      if (nodeId === this.bus.nodeId) continue; // our own is already in the store
      const given = JSON.parse(decoder.decode(reply)) as GivenSession | null;
      if (given === null) continue;
      this.#install(clientId, given);
      this.stats.sessionsTaken++;
    }
  }

  /** Another node's client connected: close ours, and hand over a persistent session. */
  #giveSession(clientId: string): GivenSession | null {
    const broker = this.#broker!;
    const session = broker.sessions.get(clientId);
    if (session === undefined) return null;
    if (session.link !== undefined) {
      broker.stats.takeovers++;
      const old = session.link;
      session.link = undefined;
      old.close(); // as a local takeover: its will goes out
    }
    const given = snapshotOf(session); // before endSession(), which clears the subscriptions
    broker.endSession(session);
    return session.clean ? null : given;
  }

  async #connected(
    clientId: string,
    connectionId: number,
    will: Message | undefined,
  ): Promise<void> {
    if (will === undefined) return;
    this.#willOwners.set(clientId, connectionId);
    try {
      await this.#kv.hSet(
        this.#willsKey(this.bus.nodeId),
        clientId,
        JSON.stringify(toStored(will)),
      );
    } catch {
      this.stats.storeFailures++; // Redis down: this will dies with this node if it dies
    }
  }

  #ended(clientId: string, connectionId: number): void {
    if (this.#willOwners.get(clientId) !== connectionId) return;
    this.#willOwners.delete(clientId);
    this.#store(this.#kv.hDel(this.#willsKey(this.bus.nodeId), clientId));
  }

  /** A node died: if this survivor wins the claim, adopt its sessions and publish its wills. */
  async #takeOver(nodeId: string): Promise<void> {
    try {
      if (!await this.bus.claim(`mqtt-node-down:${nodeId}`, 60_000)) return; // another survivor does it
      const sessionsKey = this.#sessionsKey(nodeId);
      const sessions = await this.#kv.hGetAll(sessionsKey);
      for (const [clientId, snapshot] of Object.entries(sessions)) {
        // A client that came back elsewhere meanwhile has its session there already.
        const held = await this.bus.gather(HELD, encoder.encode(clientId));
        if ([...held.replies.values()].some((r) => r[0] === 1)) continue;
        this.#install(clientId, JSON.parse(snapshot));
        this.stats.sessionsAdopted++;
      }
      await this.#kv.del(sessionsKey);
      const key = this.#willsKey(nodeId);
      const wills = await this.#kv.hGetAll(key);
      await this.#kv.del(key);
      for (const stored of Object.values(wills)) {
        const will = fromStored(JSON.parse(stored));
        this.stats.willsOfDeadNodes++;
        this.#broker!.stats.wills++;
        if (this.#broker!.mayPublish(will.topic)) this.#broker!.publish(will);
      }
    } catch {
      this.stats.storeFailures++; // Redis down: the wills stay for the next survivor to see it down
    }
  }
}

interface GivenSession {
  subscriptions: [string, QoS][];
  inflight: {
    packetId: number;
    message: StoredMessage;
    qos: 1 | 2;
    retain: boolean;
    state: "publish" | "pubrel";
  }[];
  queue: { message: StoredMessage; qos: 1 | 2; retain: boolean }[];
  incoming: number[];
}

/** What a node hands over (or snapshots) of a persistent session. */
function snapshotOf(session: Session): GivenSession {
  return {
    subscriptions: [...session.subscriptions],
    inflight: [...session.inflight.values()].map((e) => ({ ...e, message: toStored(e.message) })),
    queue: session.queue.map((q) => ({ ...q, message: toStored(q.message) })),
    incoming: [...session.incoming],
  };
}
