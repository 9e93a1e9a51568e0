/**
 * The broker-independent half of a cluster bus: local delivery, message ids
 * and dedupe, requests and their timeouts, heartbeats and liveness. A
 * {@link BusWire} moves the bytes (Redis pub/sub, or an in-process hub).
 *
 * @module
 */
import { z } from "zod";
import { intInRange, parseOptions } from "../_internal/options.ts";
import { type Logger, silentLogger } from "../observe/logger.ts";
import type {
  BusHandler,
  BusMessage,
  BusResponder,
  BusState,
  BusStats,
  ClusterBus,
  GatherResult,
  NodeEvent,
  RequestOptions,
  Unsubscribe,
} from "./bus.ts";
import {
  decodeMessage,
  encodeMessage,
  Kind,
  type KindCode,
  Status,
  type WireMessage,
} from "./bus_message.ts";
import { ClusterRequestError, ClusterTimeoutError, ClusterUnavailableError } from "./errors.ts";
import { type ChannelMatcher, channelMatcher } from "./glob.ts";
import { Liveness } from "./liveness.ts";

/** How a bus core reaches the other nodes. Every method rejects when the broker is unreachable. */
export interface BusWire {
  /** Send to every node (this one included); resolves with the number of nodes that got it. */
  sendAll(bytes: Uint8Array): Promise<number>;
  /** Send to one node; resolves with 1 if it is subscribed, 0 if not. */
  sendTo(nodeId: string, bytes: Uint8Array): Promise<number>;
  /** Set `key` if absent, expiring after `ttlMs`; true if this call set it. */
  claim(key: string, ttlMs: number): Promise<boolean>;
  /** Called at each heartbeat (e.g. to refresh the node id's claim). */
  beat?(): Promise<void>;
  /** Close the link. */
  close(): Promise<void>;
}

/** Options every bus takes. */
export interface BusOptions {
  /**
   * This node's id: letters, digits, `_`, `.`, `-` (1-64). Default: random,
   * new in every process, so a restarted process is a new node.
   */
  nodeId?: string;
  /** Interval between heartbeats, in ms. Default 1,000. */
  heartbeatMs?: number;
  /** Heartbeat intervals of silence after which a node is declared down. Default 3. */
  missedHeartbeats?: number;
  /** Default timeout of `request()` and `gather()`, in ms. Default 1,000. */
  requestTimeoutMs?: number;
  /** Where failing handlers and broker faults are reported. Default: silent. */
  logger?: Logger;
}

/** The schema of {@link BusOptions}, shared by every bus. */
export const busOptionsShape = {
  nodeId: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, {
    error: "must be 1-64 letters, digits, '_', '.' or '-'",
  }).optional(),
  heartbeatMs: intInRange(10, 600_000).default(1_000),
  missedHeartbeats: intInRange(2, 100).default(3),
  requestTimeoutMs: intInRange(1, 600_000).default(1_000),
  logger: z.custom<Logger>((v) => typeof (v as Logger)?.error === "function", {
    error: "must be a Logger",
  }).default(silentLogger),
};

const busOptionsSchema = z.strictObject(busOptionsShape);

/** Validated bus options. */
export type ParsedBusOptions = z.output<typeof busOptionsSchema>;

/** Validate {@link BusOptions}. */
export function parseBusOptions(owner: string, options: BusOptions): ParsedBusOptions {
  return parseOptions(owner, busOptionsSchema, options);
}

/** A random node id: 12 hex digits. */
export function randomNodeId(): string {
  return crypto.randomUUID().replaceAll("-", "").slice(0, 12);
}

interface Pending {
  nodeId: string;
  channel: string;
  resolve(reply: Uint8Array): void;
  reject(error: unknown): void;
  timer: ReturnType<typeof setTimeout>;
}

interface Gathering {
  replies: Map<string, Uint8Array>;
  failed: Set<string>;
  expected: number;
  done(): void;
}

const EMPTY = new Uint8Array(0);
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Implements {@link ClusterBus} over a {@link BusWire}. */
export class BusCore implements ClusterBus {
  readonly nodeId: string;
  readonly #options: ParsedBusOptions;
  readonly #logger: Logger;
  #wire: BusWire | undefined;
  #state: BusState = "down";
  #seq = 0;
  readonly #subscribers = new Set<{ matches: ChannelMatcher; handler: BusHandler }>();
  readonly #responders = new Map<string, BusResponder>();
  readonly #pending = new Map<number, Pending>();
  readonly #gatherings = new Map<number, Gathering>();
  readonly #lastSeq = new Map<string, number>();
  readonly #liveness: Liveness;
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #closing: Promise<void> | undefined;
  readonly #stats: BusStats = {
    published: 0,
    received: 0,
    delivered: 0,
    unavailable: 0,
    timeouts: 0,
    duplicates: 0,
    malformed: 0,
    handlerErrors: 0,
    disconnects: 0,
    nodesDown: 0,
  };

  /**
   * Create the core; attach its wire with {@link BusCore.attach}.
   *
   * @param nodeId this node's id
   * @param options validated options
   */
  constructor(nodeId: string, options: ParsedBusOptions) {
    this.nodeId = nodeId;
    this.#options = options;
    this.#logger = options.logger;
    this.#liveness = new Liveness(options.heartbeatMs * options.missedHeartbeats, (event) => {
      this.#stats.nodesDown++;
      this.#lastSeq.delete(event.nodeId);
      for (const [ref, pending] of this.#pending) {
        if (pending.nodeId !== event.nodeId) continue;
        this.#pending.delete(ref);
        clearTimeout(pending.timer);
        pending.reject(new ClusterRequestError("node-down", pending.channel, pending.nodeId));
      }
      for (const gathering of this.#gatherings.values()) gathering.done();
    }, this.#logger);
  }

  /** Start using `wire` (its link is up); starts the heartbeat. */
  attach(wire: BusWire): void {
    this.#wire = wire;
    this.#heartbeat = setInterval(() => this.#beat(), this.#options.heartbeatMs);
    this.linkUp();
  }

  /** The wire's link came (back) up: resume liveness verdicts and say hello. */
  linkUp(): void {
    if (this.#state === "closed") return;
    this.#state = "up";
    this.#liveness.resume();
    this.#beat();
  }

  /** The wire's link went down: no liveness verdicts until it is back. */
  linkDown(cause?: unknown): void {
    if (this.#state !== "up") return;
    this.#state = "down";
    this.#stats.disconnects++;
    this.#liveness.pause();
    this.#logger.warn("cluster bus: broker link down; reconnecting", { error: cause });
  }

  get state(): BusState {
    return this.#state;
  }

  async publish(channel: string, payload: Uint8Array): Promise<void> {
    const seq = ++this.#seq;
    this.#stats.published++;
    this.#deliver({ channel, origin: this.nodeId, seq, payload });
    await this.#send(
      "publish",
      (wire) => wire.sendAll(this.#encode(Kind.publish, seq, 0, Status.ok, channel, payload)),
    );
  }

  subscribe(pattern: string, handler: BusHandler): Unsubscribe {
    const entry = { matches: channelMatcher(pattern), handler };
    this.#subscribers.add(entry);
    return () => this.#subscribers.delete(entry);
  }

  respond(channel: string, responder: BusResponder): Unsubscribe {
    this.#responders.set(channel, responder);
    return () => {
      if (this.#responders.get(channel) === responder) this.#responders.delete(channel);
    };
  }

  async request(
    nodeId: string,
    channel: string,
    payload: Uint8Array,
    options: RequestOptions = {},
  ): Promise<Uint8Array> {
    const seq = ++this.#seq;
    if (nodeId === this.nodeId) {
      const [status, reply] = await this.#answer({ channel, origin: nodeId, seq, payload });
      if (status === Status.ok) return reply;
      throw this.#requestError(status, channel, nodeId, reply);
    }
    const timeoutMs = options.timeoutMs ?? this.#options.requestTimeoutMs;
    const replied = new Promise<Uint8Array>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(seq);
        this.#stats.timeouts++;
        reject(new ClusterTimeoutError(channel, nodeId, timeoutMs));
      }, timeoutMs);
      this.#pending.set(seq, { nodeId, channel, resolve, reject, timer });
    });
    replied.catch(() => {}); // rejected below when the send fails
    let receivers: number;
    try {
      receivers = await this.#send(
        "request",
        (wire) =>
          wire.sendTo(nodeId, this.#encode(Kind.request, seq, 0, Status.ok, channel, payload)),
      );
    } catch (error) {
      this.#settle(seq);
      throw error;
    }
    if (receivers === 0) {
      this.#settle(seq);
      throw new ClusterRequestError("no-node", channel, nodeId);
    }
    return await replied;
  }

  async gather(
    channel: string,
    payload: Uint8Array,
    options: RequestOptions = {},
  ): Promise<GatherResult> {
    const seq = ++this.#seq;
    const timeoutMs = options.timeoutMs ?? this.#options.requestTimeoutMs;
    const replies = new Map<string, Uint8Array>();
    const failed = new Set<string>();
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    // Remote replies count towards `expected` (the other nodes that got it).
    const gathering: Gathering = { replies, failed, expected: Infinity, done: finish };
    this.#gatherings.set(seq, gathering);
    const timer = setTimeout(finish, timeoutMs);
    // Sent before this node answers itself, so the message ids leave in order.
    const sent = this.#send(
      "gather",
      (wire) => wire.sendAll(this.#encode(Kind.gather, seq, 0, Status.ok, channel, payload)),
    );
    sent.catch(() => {});
    const [status, own] = await this.#answer({ channel, origin: this.nodeId, seq, payload });
    let unavailable = false;
    try {
      gathering.expected = (await sent) - 1; // every node that got it, but this one
      if (this.#remoteAnswers(gathering) >= gathering.expected) finish();
      await finished;
    } catch {
      unavailable = true;
    } finally {
      clearTimeout(timer);
      this.#gatherings.delete(seq);
    }
    if (status === Status.ok) replies.set(this.nodeId, own);
    const missing = this.nodes().filter((id) => !replies.has(id));
    return { replies, missing, unavailable };
  }

  #remoteAnswers(gathering: Gathering): number {
    return gathering.replies.size + gathering.failed.size;
  }

  nodes(): string[] {
    return [this.nodeId, ...this.#liveness.live()];
  }

  onNodeUp(listener: (event: NodeEvent) => void): Unsubscribe {
    return this.#liveness.onUp(listener);
  }

  onNodeDown(listener: (event: NodeEvent) => void): Unsubscribe {
    return this.#liveness.onDown(listener);
  }

  claim(key: string, ttlMs: number): Promise<boolean> {
    return this.#send("claim", (wire) => wire.claim(key, ttlMs));
  }

  stats(): BusStats {
    return { ...this.#stats };
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Bytes arrived from the broker. Never throws. */
  receive(bytes: Uint8Array): void {
    if (this.#state === "closed") return;
    let message: WireMessage;
    try {
      message = decodeMessage(bytes);
    } catch (error) {
      this.#stats.malformed++;
      this.#logger.warn("cluster bus: dropped a malformed message", { error });
      return;
    }
    if (message.origin === this.nodeId) return; // our own, delivered locally already
    const last = this.#lastSeq.get(message.origin) ?? 0;
    if (message.seq <= last) {
      this.#stats.duplicates++;
      return;
    }
    this.#lastSeq.set(message.origin, message.seq);
    this.#stats.received++;
    if (message.kind === Kind.leave) {
      this.#liveness.left(message.origin);
      return;
    }
    this.#liveness.seen(message.origin);
    switch (message.kind) {
      case Kind.publish:
        this.#deliver(message);
        return;
      case Kind.request:
      case Kind.gather:
        this.#reply(message);
        return;
      case Kind.reply:
        this.#replied(message);
        return;
    }
  }

  #encode(
    kind: KindCode,
    seq: number,
    ref: number,
    status: number,
    channel: string,
    payload: Uint8Array,
  ): Uint8Array {
    return encodeMessage({ kind, status, origin: this.nodeId, seq, ref, channel, payload });
  }

  async #send<T>(operation: string, send: (wire: BusWire) => Promise<T>): Promise<T> {
    const wire = this.#wire;
    if (wire === undefined || this.#state !== "up") {
      this.#stats.unavailable++;
      throw new ClusterUnavailableError(operation);
    }
    try {
      return await send(wire);
    } catch (error) {
      this.#stats.unavailable++;
      throw new ClusterUnavailableError(operation, error);
    }
  }

  #deliver(message: BusMessage): void {
    for (const { matches, handler } of this.#subscribers) {
      if (!matches(message.channel)) continue;
      this.#stats.delivered++;
      try {
        const result = handler(message);
        if (result instanceof Promise) result.catch((error) => this.#handlerFailed(message, error));
      } catch (error) {
        this.#handlerFailed(message, error);
      }
    }
  }

  #handlerFailed(message: BusMessage, error: unknown): void {
    this.#stats.handlerErrors++;
    this.#logger.error("cluster bus: a handler failed", {
      channel: message.channel,
      origin: message.origin,
      error,
    });
  }

  async #answer(message: BusMessage): Promise<[number, Uint8Array]> {
    const responder = this.#responders.get(message.channel);
    if (responder === undefined) return [Status.noResponder, EMPTY];
    try {
      return [Status.ok, await responder(message)];
    } catch (error) {
      this.#handlerFailed(message, error);
      return [Status.handlerFailed, encoder.encode(String((error as Error)?.message ?? error))];
    }
  }

  async #reply(message: WireMessage): Promise<void> {
    const [status, reply] = await this.#answer(message);
    const bytes = this.#encode(
      Kind.reply,
      ++this.#seq,
      message.seq,
      status,
      message.channel,
      reply,
    );
    try {
      await this.#send("reply", (wire) => wire.sendTo(message.origin, bytes));
    } catch {
      // counted; the asker times out
    }
  }

  #replied(message: WireMessage): void {
    const gathering = this.#gatherings.get(message.ref);
    if (gathering !== undefined) {
      if (message.status === Status.ok) gathering.replies.set(message.origin, message.payload);
      else gathering.failed.add(message.origin);
      if (this.#remoteAnswers(gathering) >= gathering.expected) gathering.done();
      return;
    }
    const pending = this.#settle(message.ref);
    if (pending === undefined || pending.nodeId !== message.origin) return; // late
    if (message.status === Status.ok) pending.resolve(message.payload);
    else {
      pending.reject(
        this.#requestError(message.status, message.channel, message.origin, message.payload),
      );
    }
  }

  #requestError(status: number, channel: string, nodeId: string, detail: Uint8Array): Error {
    return status === Status.noResponder
      ? new ClusterRequestError("no-responder", channel, nodeId)
      : new ClusterRequestError("handler-failed", channel, nodeId, decoder.decode(detail));
  }

  #settle(seq: number): Pending | undefined {
    const pending = this.#pending.get(seq);
    if (pending === undefined) return undefined;
    this.#pending.delete(seq);
    clearTimeout(pending.timer);
    return pending;
  }

  #beat(): void {
    const wire = this.#wire;
    if (wire === undefined || this.#state !== "up") return;
    const bytes = this.#encode(Kind.heartbeat, ++this.#seq, 0, Status.ok, "", EMPTY);
    wire.sendAll(bytes).catch(() => {});
    wire.beat?.().catch(() => {});
  }

  async #close(): Promise<void> {
    clearInterval(this.#heartbeat);
    const wire = this.#wire;
    if (wire !== undefined && this.#state === "up") {
      const bytes = this.#encode(Kind.leave, ++this.#seq, 0, Status.ok, "", EMPTY);
      await wire.sendAll(bytes).catch(() => {});
    }
    this.#state = "closed";
    this.#liveness.stop();
    for (const seq of [...this.#pending.keys()]) {
      const pending = this.#settle(seq)!;
      pending.reject(new ClusterUnavailableError("request (the bus was closed)"));
    }
    for (const gathering of this.#gatherings.values()) gathering.done();
    await wire?.close();
  }
}
