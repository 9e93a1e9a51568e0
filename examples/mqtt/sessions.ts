/**
 * MQTT sessions (§4.1): what the broker keeps per client id — the
 * subscriptions, the QoS 1/2 messages in flight to the client and those
 * queued behind the in-flight window or while it is offline, and the QoS 2
 * packet ids received and not yet released — and the store that holds them.
 *
 * @module
 */
import type { PushHandle } from "@wireframe/wireframe";
import type { Message, QoS } from "./packets.ts";

/** The live connection a session is bound to. */
export interface SessionLink {
  readonly connectionId: number;
  readonly push: PushHandle;
  /** Close that connection gracefully (a takeover). */
  close(): void;
}

/** A QoS 1/2 message sent to the client and not yet acknowledged. */
export interface InFlight {
  readonly packetId: number;
  readonly message: Message;
  readonly qos: 1 | 2;
  /** Sent with RETAIN 1 (a retained message for a new subscription); sent again the same way. */
  readonly retain: boolean;
  /** `"publish"`: waiting for PUBACK/PUBREC; `"pubrel"`: PUBREL sent, waiting for PUBCOMP. */
  state: "publish" | "pubrel";
}

/** A message waiting for room in the in-flight window, or for the client to come back. */
export interface Queued {
  readonly message: Message;
  readonly qos: 1 | 2;
  readonly retain: boolean;
}

/** One client's session. */
export class Session {
  /** The client identifier. */
  readonly clientId: string;
  /** Clean session: it ends with its connection. */
  readonly clean: boolean;
  /** Topic filter → granted QoS. */
  readonly subscriptions: Map<string, QoS> = new Map();
  /** Packet id → message in flight to the client, in send order. */
  readonly inflight: Map<number, InFlight> = new Map();
  /** Messages behind the window or waiting for a reconnect, oldest first. */
  readonly queue: Queued[] = [];
  /** QoS 2 packet ids received from the client, PUBREC sent, PUBREL not yet received. */
  readonly incoming: Set<number> = new Set();
  /** The live connection, if any. */
  link: SessionLink | undefined = undefined;
  /** Messages dropped because the queue was full. */
  dropped = 0;
  #nextId = 1;

  /**
   * Create a session.
   *
   * @param clientId the client identifier
   * @param clean whether it is a clean session
   */
  constructor(clientId: string, clean: boolean) {
    this.clientId = clientId;
    this.clean = clean;
  }

  /** A packet identifier not in flight (1 to 65535). */
  allocatePacketId(): number {
    for (;;) {
      const id = this.#nextId;
      this.#nextId = id === 65_535 ? 1 : id + 1;
      if (!this.inflight.has(id)) return id;
    }
  }
}

/**
 * Where sessions live between connections. In memory here
 * ({@link MemorySessionStore}); a shared store (Redis) would implement the
 * same three calls.
 */
export interface SessionStore {
  /** The session of `clientId`, if any. */
  get(clientId: string): Session | undefined;
  /** Keep `session`. */
  set(session: Session): void;
  /** Forget `clientId`'s session. */
  delete(clientId: string): void;
  /** Number of sessions. */
  readonly size: number;
}

/** Sessions in a `Map`, for one broker process. */
export class MemorySessionStore implements SessionStore {
  readonly #sessions = new Map<string, Session>();

  /** The session of `clientId`, if any. */
  get(clientId: string): Session | undefined {
    return this.#sessions.get(clientId);
  }

  /** Keep `session`. */
  set(session: Session): void {
    this.#sessions.set(session.clientId, session);
  }

  /** Forget `clientId`'s session. */
  delete(clientId: string): void {
    this.#sessions.delete(clientId);
  }

  /** Number of sessions. */
  get size(): number {
    return this.#sessions.size;
  }

  /** Every session (cluster mode snapshots the persistent ones). */
  all(): IterableIterator<Session> {
    return this.#sessions.values();
  }
}
