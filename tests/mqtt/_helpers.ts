// Shared helpers of the MQTT broker tests: a broker on 127.0.0.1:0, MQTT.js
// clients that wait on events, and a raw client that speaks bytes.
import mqtt, { type IClientOptions, type IConnackPacket, type MqttClient } from "mqtt";
import { mqttApp, type MqttAppOptions } from "../../examples/mqtt/app.ts";
import { captureLogger, deadline, RawClient, serve, waitFor } from "../e2e/_helpers.ts";
import { encodePublish } from "../../examples/mqtt/packets.ts";

export { deadline, RawClient, waitFor };

/** A broker on an ephemeral port, shut down at scope exit. */
export async function broker(options: MqttAppOptions = {}) {
  const built = mqttApp(options);
  const running = await serve(built.app.logger(captureLogger().logger));
  return {
    ...built,
    port: running.port,
    url: `mqtt://127.0.0.1:${running.port}`,
    server: running.server,
    [Symbol.asyncDispose]: () => running[Symbol.asyncDispose](),
  };
}

/** One received message. */
export interface Received {
  topic: string;
  payload: string;
  qos: number;
  retain: boolean;
  dup: boolean;
}

/** Collects a client's messages from the moment it is created; `next(n)` waits for the first n. */
export interface Inbox {
  readonly messages: Received[];
  next(n: number, what?: string): Promise<Received[]>;
}

function collect(c: MqttClient): Inbox {
  const messages: Received[] = [];
  let wake: (() => void) | undefined;
  c.on("message", (topic, payload, packet) => {
    messages.push({
      topic,
      payload: payload.toString(),
      qos: packet.qos,
      retain: packet.retain,
      dup: packet.dup,
    });
    wake?.();
  });
  return {
    messages,
    async next(n: number, what = `${n} messages`): Promise<Received[]> {
      await deadline(
        (async () => {
          while (messages.length < n) await new Promise<void>((r) => (wake = r));
        })(),
        what,
      );
      return messages.slice(0, n);
    },
  };
}

/** An MQTT.js client with its inbox and CONNACK. */
export type TestClient = MqttClient & AsyncDisposable & {
  readonly inbox: Inbox;
  readonly connack: IConnackPacket;
};

/**
 * An MQTT.js client (MQTT 3.1.1, no reconnect) that ends at scope exit. Its
 * inbox collects from before the CONNACK, so messages a resumed session gets
 * at once are not missed. Rejects with MQTT.js's error for a refused CONNECT.
 */
export async function client(url: string, options: IClientOptions = {}): Promise<TestClient> {
  const c = mqtt.connect(url, { protocolVersion: 4, reconnectPeriod: 0, ...options });
  const inbox = collect(c);
  try {
    const connack = await deadline(
      new Promise<IConnackPacket>((resolve, reject) => {
        c.once("connect", resolve);
        c.once("error", reject);
        c.once("close", () => reject(new Error("closed before CONNACK")));
      }),
      `MQTT.js connect ${options.clientId ?? ""}`,
    );
    return Object.assign(c, {
      inbox,
      connack,
      [Symbol.asyncDispose]: () => deadline(c.endAsync(true), "MQTT.js end"),
    });
  } catch (err) {
    c.end(true);
    throw err;
  }
}

/** The inbox of a client (kept for readability at call sites). */
export function inbox(c: TestClient): Inbox {
  return c.inbox;
}

// ---------------------------------------------------------------- raw packets

const utf8 = new TextEncoder();

function str(value: string): number[] {
  const bytes = utf8.encode(value);
  return [bytes.length >> 8, bytes.length & 0xff, ...bytes];
}

function remaining(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 128;
    out.push(b);
  } while (n > 0);
  return out;
}

/** A packet from its first byte and body. */
export function packet(first: number, body: number[]): Uint8Array {
  return Uint8Array.from([first, ...remaining(body.length), ...body]);
}

/** Options of a raw CONNECT. */
export interface RawConnect {
  clientId?: string;
  clean?: boolean;
  keepalive?: number;
  level?: number;
  name?: string;
  will?: { topic: string; payload: string; qos?: number; retain?: boolean };
  flags?: number; // overrides the computed flags
}

/** A CONNECT packet. */
export function connectPacket(o: RawConnect = {}): Uint8Array {
  let flags = o.clean === false ? 0 : 0x02;
  const body = [...str(o.name ?? "MQTT"), o.level ?? 4];
  const tail = [...str(o.clientId ?? "raw")];
  if (o.will) {
    flags |= 0x04 | ((o.will.qos ?? 0) << 3) | (o.will.retain ? 0x20 : 0);
    tail.push(...str(o.will.topic), ...str(o.will.payload));
  }
  const keepalive = o.keepalive ?? 0;
  body.push(o.flags ?? flags, keepalive >> 8, keepalive & 0xff, ...tail);
  return packet(0x10, body);
}

/** A SUBSCRIBE of one filter. */
export function subscribePacket(id: number, filter: string, qos: number): Uint8Array {
  return packet(0x82, [id >> 8, id & 0xff, ...str(filter), qos]);
}

/** A PUBLISH (QoS 1/2 with packet id `id`). */
export function publishPacket(topic: string, payload: string, qos: 0 | 1 | 2, id = 1): Uint8Array {
  const { frame, idOffset } = encodePublish(topic, utf8.encode(payload), qos, false);
  if (qos > 0) {
    frame[idOffset] = id >> 8;
    frame[idOffset + 1] = id & 0xff;
  }
  return frame;
}

/** A raw packet read back. */
export interface RawPacket {
  type: number;
  flags: number;
  body: Uint8Array;
}

/** Read one whole packet from a raw client. */
export async function readPacket(raw: RawClient, what = "a packet"): Promise<RawPacket> {
  const first = (await raw.readBytes(1, what))[0]!;
  let length = 0;
  let scale = 1;
  for (;;) {
    const b = (await raw.readBytes(1, what))[0]!;
    length += (b & 0x7f) * scale;
    scale *= 128;
    if (b < 0x80) break;
  }
  const body = length === 0 ? new Uint8Array(0) : await raw.readBytes(length, what);
  return { type: first >> 4, flags: first & 0x0f, body };
}

/** The topic and payload of a PUBLISH read raw, with its packet id for QoS > 0. */
export function parsePublish(
  p: RawPacket,
): { topic: string; payload: string; id: number | undefined } {
  const n = (p.body[0]! << 8) | p.body[1]!;
  const topic = new TextDecoder().decode(p.body.subarray(2, 2 + n));
  const qos = (p.flags >> 1) & 3;
  const id = qos > 0 ? (p.body[2 + n]! << 8) | p.body[3 + n]! : undefined;
  const payload = new TextDecoder().decode(p.body.subarray(2 + n + (qos > 0 ? 2 : 0)));
  return { topic, payload, id };
}

/** Connect raw and read the CONNACK; returns the client and the CONNACK's two bytes. */
export async function rawConnect(port: number, o: RawConnect = {}) {
  const raw = await RawClient.connect(port);
  await raw.write(connectPacket(o));
  const ack = await readPacket(raw, "CONNACK");
  return { raw, ack };
}
