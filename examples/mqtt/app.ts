/**
 * The MQTT 3.1.1 broker as a Wireframe app: what each library feature does
 * for the protocol.
 *
 * - framing: `VarintLengthCodec` (fixed header, remaining length), checked
 *   before the body is buffered; a packet is its own envelope, routed by type;
 * - phases: CONNECT is the only packet allowed first (`phase: "connect"`),
 *   within the handshake timeout; a second CONNECT, or anything before the
 *   first, is a phase violation and closes the connection;
 * - keepalive: `ctx.setIdleTimeout()` so that 1.5 × keepalive without a
 *   packet is the latest close (1.2 × keepalive: the library's idle timer
 *   expires within 1.25 × its value); on expiry the
 *   connection closes and the teardown hook publishes the will;
 * - fan-out: pushes on each subscriber's `PushHandle` (see `MqttBroker`),
 *   QoS 0 low with a drop policy into the dead-letter queue, QoS 1/2 high
 *   within the in-flight window; the slow-consumer guard closes a
 *   subscriber that takes no bytes for the drain timeout;
 * - `ctx.close()`: DISCONNECT, a malformed packet, a refused CONNECT, and
 *   a session taken over by a newer connection;
 * - the session registry holds the live connections; shutdown is the
 *   server's graceful shutdown.
 *
 * @module
 */
import { type Context, type DeadLetter, SessionRegistry, WireframeApp } from "@wireframe/wireframe";
import { mqttCodec, mqttSerializer } from "./codec.ts";
import { MqttBroker, type MqttBrokerOptions } from "./mqtt_broker.ts";
import {
  CONNECT,
  ConnectReturnCode,
  decodeConnect,
  decodeEmpty,
  decodePacketId,
  decodePublish,
  decodeSubscribe,
  decodeUnsubscribe,
  DISCONNECT,
  encodeAck,
  encodeConnack,
  encodeSuback,
  encodeUnsuback,
  MalformedPacketError,
  type Message,
  PINGREQ,
  PINGRESP_PACKET,
  PUBACK,
  PUBCOMP,
  PUBLISH,
  PUBREC,
  PUBREL,
  type QoS,
  SUBACK_FAILURE,
  SUBSCRIBE,
  UNSUBSCRIBE,
} from "./packets.ts";
import { Session } from "./sessions.ts";
import { checkTopicFilter } from "./topics.ts";

/** What an `authenticate` hook sees. */
export interface Credentials {
  readonly clientId: string;
  readonly username: string | undefined;
  readonly password: Uint8Array | undefined;
}

/** Options of {@link mqttApp}. */
export interface MqttAppOptions extends MqttBrokerOptions {
  /** Time for CONNECT to arrive after accept, in ms. Default 10 s. */
  connectTimeoutMs?: number;
  /** Largest remaining length accepted. Default 1 MiB. */
  maxPacketSize?: number;
  /** A subscriber that takes no bytes for this long while output is pending is closed. Default 30 s. */
  drainTimeoutMs?: number;
  /** Outbound bytes per connection above which QoS 0 is dropped. Default 256 KiB. */
  highWaterMark?: number;
  /**
   * Accept a CONNECT (return 0) or refuse it with a CONNACK code: 4 (bad
   * user name or password) or 5 (not authorized). Default: accept all.
   */
  authenticate?: (credentials: Credentials) => number | Promise<number>;
  /** Cluster mode's hooks (see `cluster.ts`); none for a single node. */
  cluster?: MqttClusterHooks;
}

/** What cluster mode needs to hear from the app. */
export interface MqttClusterHooks {
  /**
   * A CONNECT for `clientId` was accepted, before its session is looked up:
   * take the session over from another node (closing its connection there)
   * and put it in this broker's store.
   */
  takeSession(clientId: string): Promise<void>;
  /**
   * `clientId` is connected here, with this will: keep it where a survivor
   * can find it. The CONNACK waits for it, so an acknowledged will is never
   * lost with this node. Never rejects.
   */
  connected(clientId: string, connectionId: number, will: Message | undefined): Promise<void>;
  /** That connection of `clientId` ended (its will, if any, was published or discarded). */
  ended(clientId: string, connectionId: number): void;
}

/** Per-connection state. */
export interface MqttConnection {
  /** The session, once CONNECT was accepted. */
  session: Session | undefined;
  /** The will, until a DISCONNECT discards it. */
  will: Message | undefined;
}

/** A broker app and the state behind it. */
export interface MqttApp {
  readonly app: WireframeApp<MqttConnection>;
  readonly broker: MqttBroker;
  /** The live connections. */
  readonly connections: SessionRegistry;
}

type Ctx = Context<MqttConnection>;

/** Build the broker app. */
export function mqttApp(options: MqttAppOptions = {}): MqttApp {
  const broker = new MqttBroker(options);
  const connections = new SessionRegistry();
  const authenticate = options.authenticate;
  let assigned = 0;

  // [MQTT-3.1.2-8]: the will of a connection that ends without DISCONNECT, published as soon as
  // the broker decides to close (not after the close has lingered out), or at teardown.
  const releaseWill = (state: MqttConnection) => {
    const will = state.will;
    if (will === undefined) return;
    state.will = undefined;
    broker.stats.wills++;
    if (broker.mayPublish(will.topic)) broker.publish(will);
  };
  // A malformed packet or a protocol violation: the will goes out, the connection closes.
  const violation = (ctx: Ctx): undefined => {
    releaseWill(ctx.state);
    ctx.close();
    return undefined;
  };
  const packetIdOr = (payload: Uint8Array, ctx: Ctx): number | undefined => {
    try {
      return decodePacketId(payload);
    } catch {
      return violation(ctx);
    }
  };

  const deadLetters = new WritableStream<DeadLetter>({
    write(letter) {
      // QoS 0 refused by the drop policy. QoS 1/2 frames lost with a connection
      // stay in flight in their session and are sent again on reconnect.
      if (letter.reason === "full") broker.stats.droppedQos0++;
    },
  });

  const connect = async (request: { payload: Uint8Array }, ctx: Ctx) => {
    let packet;
    try {
      packet = decodeConnect(request.payload);
    } catch (err) {
      if (err instanceof MalformedPacketError) return violation(ctx);
      throw err;
    }
    const refuse = async (code: number) => {
      await ctx.push.push({ id: CONNECT, payload: encodeConnack(false, code) });
      ctx.close();
    };
    // [MQTT-3.1.2-2]: an unsupported level gets 0x01 (MQTT 5 clients get this answer).
    if (packet.protocolLevel !== 4) {
      return await refuse(ConnectReturnCode.unacceptableProtocolVersion);
    }
    let clientId = packet.clientId;
    if (clientId.length === 0) {
      // [MQTT-3.1.3-7, MQTT-3.1.3-8]: an empty id needs clean session, then gets one assigned.
      if (!packet.cleanSession) return await refuse(ConnectReturnCode.identifierRejected);
      clientId = `wireframe-${ctx.connectionId}-${++assigned}`;
    }
    if (authenticate !== undefined) {
      let code: number;
      try {
        code = await authenticate({
          clientId,
          username: packet.username,
          password: packet.password,
        });
      } catch {
        code = ConnectReturnCode.serverUnavailable; // a failing hook refuses, it does not hang
      }
      if (code !== ConnectReturnCode.accepted) return await refuse(code);
    }
    // In cluster mode, the session (and its live connection) may be on another node.
    await options.cluster?.takeSession(clientId);
    // [MQTT-3.1.4-2]: a live connection with this id is closed; its will goes out.
    let session = broker.sessions.get(clientId);
    if (session?.link !== undefined) {
      broker.stats.takeovers++;
      const old = session.link;
      session.link = undefined;
      if (session.clean) broker.endSession(session);
      old.close();
    }
    let sessionPresent = false;
    if (packet.cleanSession || session === undefined || session.clean) {
      // [MQTT-3.1.2-6]: a clean session discards any previous one.
      if (session !== undefined) broker.endSession(session);
      session = new Session(clientId, packet.cleanSession);
      broker.sessions.set(session);
    } else {
      sessionPresent = true; // [MQTT-3.2.2-2]
    }
    session.link = {
      connectionId: ctx.connectionId,
      push: ctx.push,
      close: () => violation(ctx), // taken over: as for a protocol error, the will goes out
    };
    ctx.state.session = session;
    ctx.state.will = packet.will;
    await options.cluster?.connected(clientId, ctx.connectionId, packet.will);
    // [MQTT-3.1.2-24]: no packet within one and a half keepalive periods closes the connection.
    // The idle timeout expires between its value and 1.25 × it after the last packet, so
    // 1.2 × keepalive closes between 1.2 and 1.5 keepalive periods: never later than the rule.
    ctx.setIdleTimeout(packet.keepalive === 0 ? 0 : packet.keepalive * 1200);
    ctx.enterPhase("ready");
    try {
      await ctx.push.push({ id: CONNECT, payload: encodeConnack(sessionPresent, 0) });
    } catch {
      return undefined; // closed meanwhile
    }
    broker.resume(session);
    return undefined;
  };

  const app = new WireframeApp<MqttConnection>()
    .codec(mqttCodec(options.maxPacketSize ?? 1_048_576))
    .serializer(mqttSerializer)
    .phases({ initial: "connect" })
    .timeouts({ handshakeMs: options.connectTimeoutMs ?? 10_000 })
    .outbound({
      ...(options.highWaterMark === undefined ? {} : { highWaterMark: options.highWaterMark }),
      ...(options.drainTimeoutMs === undefined ? {} : { drainTimeoutMs: options.drainTimeoutMs }),
    })
    .pushQueues({ highCapacity: Math.max(128, broker.maxInflight * 2), lowCapacity: 1024 })
    .deadLetterQueue(deadLetters)
    .sessions(connections)
    .onConnectionSetup(() => ({ session: undefined, will: undefined }))
    .onConnectionTeardown((state, info) => {
      const session = state.session;
      if (session === undefined) return;
      if (session.link?.connectionId === info.connectionId) {
        session.link = undefined;
        if (session.clean) broker.endSession(session); // [MQTT-3.1.2-6]
      }
      releaseWill(state); // the peer went away (reset, EOF) without DISCONNECT
      options.cluster?.ended(session.clientId, info.connectionId);
    })
    .withProtocol({
      phaseViolation: () => undefined, // MQTT answers nothing: the connection just closes
      // Keepalive expiry, bad framing, a slow consumer: no last packet, but the will goes now.
      closingFrames: (_error, ctx) => {
        releaseWill(ctx.state);
        return undefined;
      },
    })
    .route(CONNECT, connect, { phase: "connect" })
    .route(PUBLISH, (request, ctx) => {
      const session = ctx.state.session!;
      let packet;
      try {
        packet = decodePublish(request.payload);
      } catch (err) {
        if (err instanceof MalformedPacketError) return violation(ctx);
        throw err;
      }
      const allowed = broker.mayPublish(packet.topic);
      if (!allowed) broker.stats.deniedPublish++;
      if (packet.qos === 0) {
        if (allowed) broker.publish(packet);
        return undefined;
      }
      const id = packet.packetId!;
      if (packet.qos === 1) {
        if (allowed) broker.publish(packet, request.payload);
        return encodeAck(PUBACK, id);
      }
      // QoS 2, delivered on PUBLISH and once per packet id until PUBREL [MQTT-4.3.3-2].
      if (!session.incoming.has(id)) {
        session.incoming.add(id);
        if (allowed) broker.publish(packet, request.payload);
      }
      return encodeAck(PUBREC, id);
    })
    .route(PUBACK, (request, ctx) => {
      const id = packetIdOr(request.payload, ctx);
      if (id !== undefined) broker.completed(ctx.state.session!, id);
      return undefined;
    })
    .route(PUBREC, (request, ctx) => {
      const id = packetIdOr(request.payload, ctx);
      if (id === undefined) return undefined;
      broker.received(ctx.state.session!, id);
      return encodeAck(PUBREL, id); // [MQTT-4.3.3-1]
    })
    .route(PUBREL, (request, ctx) => {
      const id = packetIdOr(request.payload, ctx);
      if (id === undefined) return undefined;
      ctx.state.session!.incoming.delete(id);
      return encodeAck(PUBCOMP, id);
    })
    .route(PUBCOMP, (request, ctx) => {
      const id = packetIdOr(request.payload, ctx);
      if (id !== undefined) broker.completed(ctx.state.session!, id);
      return undefined;
    })
    .route(SUBSCRIBE, async (request, ctx) => {
      const session = ctx.state.session!;
      let packet;
      try {
        packet = decodeSubscribe(request.payload);
        for (const { filter } of packet.subscriptions) checkTopicFilter(filter);
      } catch (err) {
        if (err instanceof MalformedPacketError) return violation(ctx);
        throw err;
      }
      const granted: (QoS | undefined)[] = packet.subscriptions.map(({ filter, qos }) => {
        if (!broker.maySubscribe(filter)) {
          broker.stats.deniedSubscribe++;
          return undefined;
        }
        broker.subscribe(session, filter, qos);
        return qos;
      });
      const codes = granted.map((qos) => qos ?? SUBACK_FAILURE);
      try {
        await ctx.push.push({ id: SUBSCRIBE, payload: encodeSuback(packet.packetId, codes) });
      } catch {
        return undefined;
      }
      // After the SUBACK, the retained messages of each new subscription [MQTT-3.3.1-6].
      for (let i = 0; i < granted.length; i++) {
        const qos = granted[i];
        if (qos !== undefined) {
          await broker.sendRetained(session, packet.subscriptions[i]!.filter, qos);
        }
      }
      return undefined;
    })
    .route(UNSUBSCRIBE, (request, ctx) => {
      let packet;
      try {
        packet = decodeUnsubscribe(request.payload);
        for (const filter of packet.filters) checkTopicFilter(filter);
      } catch (err) {
        if (err instanceof MalformedPacketError) return violation(ctx);
        throw err;
      }
      for (const filter of packet.filters) broker.unsubscribe(ctx.state.session!, filter);
      return encodeUnsuback(packet.packetId);
    })
    .route(PINGREQ, (request, ctx) => {
      try {
        decodeEmpty(request.payload, "PINGREQ");
      } catch {
        return violation(ctx);
      }
      return PINGRESP_PACKET;
    })
    .route(DISCONNECT, (request, ctx) => {
      try {
        decodeEmpty(request.payload, "DISCONNECT");
      } catch {
        return violation(ctx);
      }
      ctx.state.will = undefined; // [MQTT-3.14.4-3]
      ctx.close(); // [MQTT-3.14.4-1]
      return undefined;
    });

  return { app, broker, connections };
}
