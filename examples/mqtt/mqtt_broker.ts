/**
 * The broker's shared state and its delivery path: sessions, the
 * subscription trie, retained messages, and fan-out of every message as
 * pushes on the subscribers' `PushHandle`s.
 *
 * - QoS 0 goes at low priority with a drop policy: a subscriber whose
 *   outbound bytes are over the high water mark loses it (to the dead-letter
 *   queue, counted), and nobody else waits.
 * - QoS 1/2 goes at high priority, at most `maxInflight` unacknowledged per
 *   session; the rest wait in the session's queue (at most `maxQueued`,
 *   drops counted), also while a persistent session is offline, and go out
 *   as acknowledgements free the window.
 *
 * @module
 */
import type { Envelope } from "@wireframe/wireframe";
import {
  encodeAck,
  type EncodedPublish,
  encodePublish,
  forwardPublish,
  type Message,
  PUBLISH,
  PUBREL,
  type QoS,
  setPacketId,
  withPacketId,
} from "./packets.ts";
import { RetainedStore } from "./retained.ts";
import { type InFlight, MemorySessionStore, type Session, type SessionStore } from "./sessions.ts";
import { filterWithin, topicMatches, TopicTrie } from "./topics.ts";

/** The limits and ACL of a broker. */
export interface MqttBrokerOptions {
  /** QoS 1/2 messages in flight to one client, 1 to 65535. Default 32. */
  maxInflight?: number;
  /** QoS 1/2 messages queued for one client (behind the window or offline). Default 1000. */
  maxQueued?: number;
  /** Topic filters nobody may subscribe to or receive (SUBACK 0x80 for a filter inside one). */
  denySubscribe?: readonly string[];
  /** Topic filters nobody may publish to (acknowledged and discarded). */
  denyPublish?: readonly string[];
  /** Where sessions live. Default: in memory. */
  sessionStore?: SessionStore;
  /**
   * Called with every message published here (by a client or a will), after
   * local delivery: cluster mode hands it to the other nodes, which deliver it
   * with `publishFromPeer()` (see `cluster.ts`).
   */
  relay?: (message: Message) => void;
}

/** Counters of a broker. */
export interface MqttBrokerStats {
  /** PUBLISH packets accepted from clients (and wills). */
  published: number;
  /** Messages handed to a subscriber's push queue. */
  delivered: number;
  /** QoS 0 messages a slow subscriber lost (its queue was over the water mark). */
  droppedQos0: number;
  /** QoS 1/2 messages dropped because a session's queue was full. */
  droppedQueued: number;
  /** PUBLISH packets discarded by the ACL. */
  deniedPublish: number;
  /** Subscriptions refused by the ACL. */
  deniedSubscribe: number;
  /** Will messages published. */
  wills: number;
  /** Connections closed because a newer one took their client id. */
  takeovers: number;
}

const frame = (payload: Uint8Array): Envelope => ({ id: PUBLISH, payload });

// One options object each, not one per push.
const HIGH = { priority: "high" } as const;
const LOW = { priority: "low" } as const;
const LOW_DROP = { priority: "low", policy: "drop-if-full" } as const;

/** One message on its way out, encoded at most once per QoS. */
class Outgoing {
  readonly message: Message;
  readonly retain: boolean;
  #byQos: (EncodedPublish | undefined)[] = [undefined, undefined, undefined];

  /**
   * @param encoded the message's PUBLISH at its own QoS, if it is at hand
   *   (see `forwardPublish`)
   */
  constructor(message: Message, retain: boolean, encoded?: EncodedPublish) {
    this.message = message;
    this.retain = retain;
    if (encoded !== undefined) this.#byQos[message.qos] = encoded;
  }

  encoded(qos: QoS): EncodedPublish {
    return this.#byQos[qos] ??= encodePublish(
      this.message.topic,
      this.message.payload,
      qos,
      this.retain,
    );
  }

  /**
   * The PUBLISH for one subscriber at QoS 1/2, with its packet id: a copy of
   * the encoding, or for the `last` subscriber the encoding itself (one copy
   * fewer; one-to-one traffic copies nothing per delivery).
   */
  withId(qos: QoS, id: number, dup: boolean, last: boolean): Uint8Array {
    const encoded = this.encoded(qos);
    if (!last) return withPacketId(encoded, id, dup);
    this.#byQos[qos] = undefined; // given away: a later caller would encode again
    return setPacketId(encoded, id, dup);
  }
}

/** Sessions, subscriptions, retained messages and delivery. */
export class MqttBroker {
  /** The session store. */
  readonly sessions: SessionStore;
  /** Retained messages. */
  readonly retained: RetainedStore = new RetainedStore();
  /** Counters. */
  readonly stats: MqttBrokerStats = {
    published: 0,
    delivered: 0,
    droppedQos0: 0,
    droppedQueued: 0,
    deniedPublish: 0,
    deniedSubscribe: 0,
    wills: 0,
    takeovers: 0,
  };
  /** In-flight window per session. */
  readonly maxInflight: number;
  /** Queue bound per session. */
  readonly maxQueued: number;
  readonly #subscriptions = new TopicTrie<Session, QoS>();
  readonly #denySubscribe: readonly string[];
  readonly #denyPublish: readonly string[];
  readonly #relay: ((message: Message) => void) | undefined;

  /**
   * Create a broker.
   *
   * @param options see {@link MqttBrokerOptions}
   */
  constructor(options: MqttBrokerOptions = {}) {
    this.maxInflight = options.maxInflight ?? 32;
    this.maxQueued = options.maxQueued ?? 1000;
    if (
      !(Number.isInteger(this.maxInflight) && this.maxInflight >= 1 && this.maxInflight <= 65_535)
    ) {
      throw new RangeError(
        `maxInflight must be an integer from 1 to 65535 (got ${this.maxInflight})`,
      );
    }
    if (!(Number.isInteger(this.maxQueued) && this.maxQueued >= 0)) {
      throw new RangeError(`maxQueued must be a non-negative integer (got ${this.maxQueued})`);
    }
    this.#denySubscribe = options.denySubscribe ?? [];
    this.#denyPublish = options.denyPublish ?? [];
    this.sessions = options.sessionStore ?? new MemorySessionStore();
    this.#relay = options.relay;
  }

  /** Number of topic filters with subscribers. */
  get subscriptionCount(): number {
    return this.#subscriptions.size;
  }

  /** Whether the ACL lets anyone publish to `topic`. */
  mayPublish(topic: string): boolean {
    return !this.#denyPublish.some((filter) => topicMatches(filter, topic));
  }

  /** Whether the ACL lets anyone subscribe to `filter` (it is inside no denied filter). */
  maySubscribe(filter: string): boolean {
    return !this.#denySubscribe.some((denied) => filterWithin(filter, denied));
  }

  /**
   * Accept a message from a client (or a will): retain it if asked, and deliver it.
   *
   * @param received the message
   * @param packet the PUBLISH it arrived in (a whole packet, checked by
   *   `decodePublish`), if it did: its subscribers' PUBLISH is a copy of it
   */
  publish(received: Message, packet?: Uint8Array): void {
    this.stats.published++;
    const message = this.#publishHere(received, packet);
    this.#relay?.(message);
  }

  /** A message another node of the cluster accepted: retain it if asked, deliver it here. */
  publishFromPeer(message: Message): void {
    this.#publishHere(message);
  }

  #publishHere(received: Message, packet?: Uint8Array): Message {
    if (received.retain) this.retained.retain(received);
    // A QoS 1/2 message may wait in sessions (in flight, queued): keep its own copy of the
    // payload rather than a view that would pin the whole socket chunk it arrived in. One
    // that came as a PUBLISH is copied once, as its subscribers' PUBLISH, and its payload is
    // a view of that copy.
    let message = received;
    let encoded: EncodedPublish | undefined;
    if (received.qos > 0) {
      encoded = packet === undefined ? undefined : forwardPublish(packet);
      message = {
        topic: received.topic,
        payload: encoded === undefined
          ? received.payload.slice()
          : encoded.frame.subarray(encoded.idOffset + 2),
        qos: received.qos,
        retain: received.retain,
      };
    }
    const topic = message.topic;
    if (this.#denySubscribe.some((denied) => topicMatches(denied, topic))) return message;
    // [MQTT-3.3.1-9]: RETAIN 0 to current subscribers
    const out = new Outgoing(message, false, encoded);
    let single: Map<Session, QoS> | undefined;
    let merged: Map<Session, QoS> | undefined;
    this.#subscriptions.match(topic, (entries) => {
      if (single === undefined && merged === undefined) {
        single = entries;
        return;
      }
      // Overlapping subscriptions: one message per session, at the highest QoS [MQTT-3.3.5-1].
      if (merged === undefined) {
        merged = new Map(single);
        single = undefined;
      }
      for (const [session, qos] of entries) {
        if ((merged.get(session) ?? -1) < qos) merged.set(session, qos);
      }
    });
    const targets = merged ?? single;
    if (targets === undefined) return message;
    let left = targets.size;
    for (const [session, granted] of targets) {
      this.#deliver(session, out, Math.min(granted, message.qos) as QoS, --left === 0);
    }
    return message;
  }

  /** Send `session` the retained messages `filter` matches, with RETAIN 1 [MQTT-3.3.1-8]. */
  async sendRetained(session: Session, filter: string, granted: QoS): Promise<void> {
    for (const message of this.retained.matching(filter)) {
      if (this.#denySubscribe.some((denied) => topicMatches(denied, message.topic))) continue;
      const qos = Math.min(granted, message.qos) as QoS;
      const out = new Outgoing(message, true);
      if (qos > 0) {
        this.#deliver(session, out, qos, true);
        continue;
      }
      const link = session.link;
      if (link === undefined) return;
      try {
        await link.push.push(frame(out.encoded(0).frame), LOW);
        this.stats.delivered++;
      } catch {
        return; // the connection closed
      }
    }
  }

  /** Subscribe `session` to `filter` at `qos` (replacing an earlier subscription to it). */
  subscribe(session: Session, filter: string, qos: QoS): void {
    session.subscriptions.set(filter, qos);
    this.#subscriptions.add(filter, session, qos);
  }

  /** Remove `session`'s subscription to `filter`. */
  unsubscribe(session: Session, filter: string): void {
    session.subscriptions.delete(filter);
    this.#subscriptions.remove(filter, session);
  }

  /** Forget `session`: its subscriptions, and its entry in the store if it is still the current one. */
  endSession(session: Session): void {
    for (const filter of session.subscriptions.keys()) this.#subscriptions.remove(filter, session);
    session.subscriptions.clear();
    if (this.sessions.get(session.clientId) === session) this.sessions.delete(session.clientId);
  }

  /**
   * After CONNACK on a resumed session: send again what is in flight (PUBLISH
   * with DUP, or PUBREL) [MQTT-4.4.0-1], then what is queued.
   */
  resume(session: Session): void {
    const link = session.link;
    if (link === undefined) return;
    for (const entry of session.inflight.values()) {
      if (entry.state === "pubrel") {
        link.push.push({ id: PUBREL, payload: encodeAck(PUBREL, entry.packetId) }).catch(ignore);
      } else {
        this.#send(session, entry, new Outgoing(entry.message, entry.retain), true, true);
      }
    }
    this.#drain(session);
  }

  /** A PUBACK (QoS 1) or PUBCOMP (QoS 2) from the client: the message is done. */
  completed(session: Session, packetId: number): void {
    if (session.inflight.delete(packetId)) this.#drain(session);
  }

  /** A PUBREC from the client: PUBREL is the answer; `false` if the id is not in flight. */
  received(session: Session, packetId: number): boolean {
    const entry = session.inflight.get(packetId);
    if (entry === undefined || entry.qos !== 2) return false;
    entry.state = "pubrel";
    return true;
  }

  /** `last`: no other subscriber gets `out` after this one (see `Outgoing.withId`). */
  #deliver(session: Session, out: Outgoing, qos: QoS, last: boolean): void {
    const link = session.link;
    if (qos === 0) {
      if (link === undefined) return; // QoS 0 is not kept for an offline client
      const push = frame(out.encoded(0).frame);
      const result = link.push.tryPush(push, LOW);
      if (result === "queued") {
        this.stats.delivered++;
      } else if (result === "full") {
        // The drop policy: the frame goes to the dead-letter queue, counted there.
        link.push.pushWithPolicy(push, LOW_DROP)
          .then((r) => r === "queued" && this.stats.delivered++, ignore);
      }
      return;
    }
    if (
      link !== undefined && session.queue.length === 0 && session.inflight.size < this.maxInflight
    ) {
      const entry: InFlight = {
        packetId: session.allocatePacketId(),
        message: out.message,
        qos,
        retain: out.retain,
        state: "publish",
      };
      this.#send(session, entry, out, false, last);
      return;
    }
    if (session.queue.length >= this.maxQueued) {
      session.dropped++;
      this.stats.droppedQueued++;
      return;
    }
    session.queue.push({ message: out.message, qos, retain: out.retain });
  }

  #send(session: Session, entry: InFlight, out: Outgoing, dup: boolean, last: boolean): void {
    session.inflight.set(entry.packetId, entry);
    const link = session.link;
    if (link === undefined) return;
    const bytes = out.withId(entry.qos, entry.packetId, dup, last);
    this.stats.delivered++;
    // Not awaited: the window bounds what waits here. If the connection
    // closes first, the entry stays in flight and goes again on reconnect.
    link.push.push(frame(bytes), HIGH).catch(ignore);
  }

  #drain(session: Session): void {
    while (
      session.link !== undefined && session.queue.length > 0 &&
      session.inflight.size < this.maxInflight
    ) {
      const next = session.queue.shift()!;
      const entry: InFlight = {
        packetId: session.allocatePacketId(),
        message: next.message,
        qos: next.qos,
        retain: next.retain,
        state: "publish",
      };
      this.#send(session, entry, new Outgoing(next.message, next.retain), false, true);
    }
  }
}

function ignore(): void {}
