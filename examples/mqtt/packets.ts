/**
 * MQTT 3.1.1 control packets (OASIS standard, §3): decoding the packets a
 * broker receives and encoding the packets it sends. A frame here is a whole
 * packet (fixed header, remaining length, body), as `VarintLengthCodec`
 * delivers it; decoders throw {@link MalformedPacketError} for anything the
 * standard calls malformed or a protocol violation.
 *
 * @module
 */
import { varintLength, writeVarint } from "@wireframe/wireframe/codec";

/** Packet types (§2.2.1). */
export const CONNECT = 1,
  CONNACK = 2,
  PUBLISH = 3,
  PUBACK = 4,
  PUBREC = 5,
  PUBREL = 6,
  PUBCOMP = 7,
  SUBSCRIBE = 8,
  SUBACK = 9,
  UNSUBSCRIBE = 10,
  UNSUBACK = 11,
  PINGREQ = 12,
  PINGRESP = 13,
  DISCONNECT = 14;

/** A QoS level. */
export type QoS = 0 | 1 | 2;

/** CONNACK return codes (§3.2.2.3). */
export const ConnectReturnCode = {
  accepted: 0,
  unacceptableProtocolVersion: 1,
  identifierRejected: 2,
  serverUnavailable: 3,
  badUsernameOrPassword: 4,
  notAuthorized: 5,
} as const;

/** A SUBACK return code refusing a subscription (§3.9.3). */
export const SUBACK_FAILURE = 0x80;

/** A packet the standard calls malformed, or a protocol violation in one packet. */
export class MalformedPacketError extends Error {
  /** The normative statement broken, e.g. `"MQTT-3.1.2-3"`, when there is one. */
  readonly rule: string | undefined;

  /**
   * Create the error.
   *
   * @param message what is wrong
   * @param rule the normative statement broken, if any
   */
  constructor(message: string, rule?: string) {
    super(rule === undefined ? message : `${message} [${rule}]`);
    this.name = "MalformedPacketError";
    this.rule = rule;
  }
}

/** An application message: what a PUBLISH or a will carries. */
export interface Message {
  readonly topic: string;
  readonly payload: Uint8Array;
  readonly qos: QoS;
  readonly retain: boolean;
}

/** A decoded CONNECT (§3.1). */
export interface ConnectPacket {
  readonly protocolName: string;
  readonly protocolLevel: number;
  readonly cleanSession: boolean;
  /** Seconds; 0 turns keepalive off. */
  readonly keepalive: number;
  readonly clientId: string;
  readonly will: Message | undefined;
  readonly username: string | undefined;
  readonly password: Uint8Array | undefined;
}

/** A decoded PUBLISH (§3.3). */
export interface PublishPacket extends Message {
  readonly dup: boolean;
  /** Present for QoS 1 and 2. */
  readonly packetId: number | undefined;
}

/** One topic filter of a SUBSCRIBE with its requested QoS. */
export interface Subscription {
  readonly filter: string;
  readonly qos: QoS;
}

/** A decoded SUBSCRIBE (§3.8). */
export interface SubscribePacket {
  readonly packetId: number;
  readonly subscriptions: readonly Subscription[];
}

/** A decoded UNSUBSCRIBE (§3.10). */
export interface UnsubscribePacket {
  readonly packetId: number;
  readonly filters: readonly string[];
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();

/** Reads the body of one packet; every read checks it stays inside the packet. */
class Reader {
  readonly #bytes: Uint8Array;
  #at: number;

  constructor(frame: Uint8Array) {
    this.#bytes = frame;
    this.#at = bodyOffset(frame);
  }

  get remaining(): number {
    return this.#bytes.length - this.#at;
  }

  u8(): number {
    if (this.remaining < 1) throw new MalformedPacketError("packet ends early");
    return this.#bytes[this.#at++]!;
  }

  u16(): number {
    if (this.remaining < 2) throw new MalformedPacketError("packet ends early");
    const value = (this.#bytes[this.#at]! << 8) | this.#bytes[this.#at + 1]!;
    this.#at += 2;
    return value;
  }

  binary(): Uint8Array {
    const length = this.u16();
    if (this.remaining < length) throw new MalformedPacketError("packet ends inside a field");
    const value = this.#bytes.subarray(this.#at, this.#at + length);
    this.#at += length;
    return value;
  }

  // §1.5.3: well-formed UTF-8, no U+0000 [MQTT-1.5.3-1, MQTT-1.5.3-2].
  string(): string {
    const bytes = this.binary();
    const ascii = asciiText(bytes);
    if (ascii !== undefined) return ascii;
    let text: string;
    try {
      text = utf8.decode(bytes);
    } catch {
      throw new MalformedPacketError("a string is not well-formed UTF-8", "MQTT-1.5.3-1");
    }
    if (text.includes("\u0000")) {
      throw new MalformedPacketError("a string holds U+0000", "MQTT-1.5.3-2");
    }
    return text;
  }

  rest(): Uint8Array {
    const value = this.#bytes.subarray(this.#at);
    this.#at = this.#bytes.length;
    return value;
  }

  end(what: string): void {
    if (this.remaining !== 0) throw new MalformedPacketError(`${what} has trailing bytes`);
  }
}

/** Strings up to this many bytes are tried as ASCII first (see {@link asciiText}). */
const ASCII_UP_TO = 64;

/**
 * `bytes` as a string if it is short, plain ASCII and holds no U+0000, else
 * `undefined` (the caller decodes and checks it as UTF-8). Topics and client
 * ids mostly are: on Deno a `TextDecoder` call costs ~0.25 µs, this loop a
 * quarter of that.
 */
function asciiText(bytes: Uint8Array): string | undefined {
  if (bytes.length > ASCII_UP_TO) return undefined;
  let text = "";
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!;
    if (byte === 0 || byte >= 0x80) return undefined;
    text += String.fromCharCode(byte);
  }
  return text;
}

/** Where the body of a whole packet starts: after its type byte and remaining length. */
export function bodyOffset(frame: Uint8Array): number {
  let at = 1;
  while (at < frame.length && frame[at]! >= 0x80) at++;
  return at + 1;
}

/** The packet type of a whole packet. */
export function packetType(frame: Uint8Array): number {
  return frame[0]! >> 4;
}

function packetId(reader: Reader, rule: string): number {
  const id = reader.u16();
  if (id === 0) throw new MalformedPacketError("packet identifier 0", rule);
  return id;
}

/** Decode a CONNECT. The protocol level is returned as sent: the caller answers a wrong one. */
export function decodeConnect(frame: Uint8Array): ConnectPacket {
  const r = new Reader(frame);
  const protocolName = r.string();
  const protocolLevel = r.u8();
  const flags = r.u8();
  const keepalive = r.u16();
  if (protocolName !== "MQTT" && protocolName !== "MQIsdp") {
    throw new MalformedPacketError(`protocol name "${protocolName}"`, "MQTT-3.1.2-1");
  }
  // Levels other than 4 are answered with CONNACK 0x01 before the flags are judged.
  if (protocolLevel !== 4) {
    return {
      protocolName,
      protocolLevel,
      cleanSession: true,
      keepalive,
      clientId: "",
      will: undefined,
      username: undefined,
      password: undefined,
    };
  }
  if ((flags & 0x01) !== 0) throw new MalformedPacketError("reserved flag set", "MQTT-3.1.2-3");
  const cleanSession = (flags & 0x02) !== 0;
  const willFlag = (flags & 0x04) !== 0;
  const willQos = (flags >> 3) & 0x03;
  const willRetain = (flags & 0x20) !== 0;
  const hasPassword = (flags & 0x40) !== 0;
  const hasUsername = (flags & 0x80) !== 0;
  if (!willFlag && (willQos !== 0 || willRetain)) {
    throw new MalformedPacketError("will QoS or retain without a will", "MQTT-3.1.2-13");
  }
  if (willQos === 3) throw new MalformedPacketError("will QoS 3", "MQTT-3.1.2-14");
  if (!hasUsername && hasPassword) {
    throw new MalformedPacketError("a password without a user name", "MQTT-3.1.2-22");
  }
  const clientId = r.string();
  let will: Message | undefined;
  if (willFlag) {
    const topic = r.string();
    checkTopicName(topic);
    will = { topic, payload: r.binary().slice(), qos: willQos as QoS, retain: willRetain };
  }
  const username = hasUsername ? r.string() : undefined;
  const password = hasPassword ? r.binary().slice() : undefined;
  r.end("CONNECT");
  return {
    protocolName,
    protocolLevel,
    cleanSession,
    keepalive,
    clientId,
    will,
    username,
    password,
  };
}

/** §4.7.3 / §3.3.2.1: a topic name is at least one character and holds no wildcard. */
export function checkTopicName(topic: string): void {
  if (topic.length === 0) throw new MalformedPacketError("empty topic name", "MQTT-4.7.3-1");
  if (topic.includes("+") || topic.includes("#")) {
    throw new MalformedPacketError(`wildcard in topic name "${topic}"`, "MQTT-3.3.2-2");
  }
}

/** Decode a PUBLISH; its payload is a view into `frame`. */
export function decodePublish(frame: Uint8Array): PublishPacket {
  const flags = frame[0]! & 0x0f;
  const qos = ((flags >> 1) & 0x03) as QoS; // 3 is refused by the fixed-header check
  const r = new Reader(frame);
  const topic = r.string();
  checkTopicName(topic);
  const id = qos > 0 ? packetId(r, "MQTT-2.3.1-1") : undefined;
  if (qos === 0 && (flags & 0x08) !== 0) {
    throw new MalformedPacketError("DUP set on a QoS 0 PUBLISH", "MQTT-3.3.1-2");
  }
  return {
    topic,
    payload: r.rest(),
    qos,
    retain: (flags & 0x01) !== 0,
    dup: (flags & 0x08) !== 0,
    packetId: id,
  };
}

/** Decode the packet identifier of a PUBACK, PUBREC, PUBREL or PUBCOMP (remaining length 2). */
export function decodePacketId(frame: Uint8Array): number {
  const r = new Reader(frame);
  const id = packetId(r, "MQTT-2.3.1-1");
  r.end("acknowledgement");
  return id;
}

/** Decode a SUBSCRIBE: at least one filter, each with QoS 0-2 and reserved bits 0. */
export function decodeSubscribe(frame: Uint8Array): SubscribePacket {
  const r = new Reader(frame);
  const id = packetId(r, "MQTT-2.3.1-1");
  const subscriptions: Subscription[] = [];
  while (r.remaining > 0) {
    const filter = r.string();
    const options = r.u8();
    if (options > 2) throw new MalformedPacketError("requested QoS byte > 2", "MQTT-3.8.3-4");
    subscriptions.push({ filter, qos: options as QoS });
  }
  if (subscriptions.length === 0) {
    throw new MalformedPacketError("SUBSCRIBE without a topic filter", "MQTT-3.8.3-3");
  }
  return { packetId: id, subscriptions };
}

/** Decode an UNSUBSCRIBE: at least one filter. */
export function decodeUnsubscribe(frame: Uint8Array): UnsubscribePacket {
  const r = new Reader(frame);
  const id = packetId(r, "MQTT-2.3.1-1");
  const filters: string[] = [];
  while (r.remaining > 0) filters.push(r.string());
  if (filters.length === 0) {
    throw new MalformedPacketError("UNSUBSCRIBE without a topic filter", "MQTT-3.10.3-2");
  }
  return { packetId: id, filters };
}

/** Check that a PINGREQ or DISCONNECT has no body. */
export function decodeEmpty(frame: Uint8Array, what: string): void {
  new Reader(frame).end(what);
}

// ---- encoding -------------------------------------------------------------

/** Packets up to this size are carved out of a shared buffer (see {@link carve}). */
const CARVE_UP_TO = 512;
/** Bytes of each shared buffer small packets are carved from. */
const CARVE_BUFFER_SIZE = 16 * 1024;
let carveBuffer = new Uint8Array(0);
let carved = 0;

/**
 * A zeroed region of `size` bytes (at most {@link CARVE_UP_TO}) for a packet
 * that lives only until it is written: an acknowledgement, a subscriber's
 * copy of a PUBLISH. On Deno, allocating a small `Uint8Array` costs ~0.2 µs
 * (a backing store each), carving a view a few ns. Regions are never reused:
 * a buffer is dropped when it is used up, and lives on while a region does.
 * Nothing kept for long (a message waiting in a session) is carved, so no
 * such region pins a whole buffer.
 */
function carve(size: number): Uint8Array {
  if (carveBuffer.length - carved < size) {
    carveBuffer = new Uint8Array(CARVE_BUFFER_SIZE);
    carved = 0;
  }
  const region = carveBuffer.subarray(carved, carved + size);
  carved += size;
  return region;
}

function withHeader(first: number, bodyLength: number): { out: Uint8Array; at: number } {
  const out = new Uint8Array(1 + varintLength(bodyLength) + bodyLength);
  out[0] = first;
  return { out, at: 1 + writeVarint(bodyLength, out, 1) };
}

/** A CONNACK (§3.2). */
export function encodeConnack(sessionPresent: boolean, code: number): Uint8Array {
  return Uint8Array.of(CONNACK << 4, 2, sessionPresent ? 1 : 0, code);
}

/** A PUBACK, PUBREC, PUBREL (flags 0b0010) or PUBCOMP. */
export function encodeAck(type: number, id: number): Uint8Array {
  const ack = carve(4);
  ack[0] = (type << 4) | (type === PUBREL ? 0x02 : 0);
  ack[1] = 2;
  ack[2] = id >> 8;
  ack[3] = id & 0xff;
  return ack;
}

/** A SUBACK (§3.9) with one return code per filter. */
export function encodeSuback(id: number, codes: readonly number[]): Uint8Array {
  const { out, at } = withHeader(SUBACK << 4, 2 + codes.length);
  out[at] = id >> 8;
  out[at + 1] = id & 0xff;
  out.set(codes, at + 2);
  return out;
}

/** An UNSUBACK (§3.11). */
export function encodeUnsuback(id: number): Uint8Array {
  return Uint8Array.of(UNSUBACK << 4, 2, id >> 8, id & 0xff);
}

/** The PINGRESP (§3.13). */
export const PINGRESP_PACKET: Uint8Array = Uint8Array.of(PINGRESP << 4, 0);

/**
 * A PUBLISH to send. For QoS 1 and 2 the packet identifier is written as 0:
 * fill it per subscriber with {@link withPacketId} (one encode per message,
 * one copy per subscriber).
 */
export interface EncodedPublish {
  readonly frame: Uint8Array;
  /** Offset of the packet identifier in `frame` (QoS 1 and 2). */
  readonly idOffset: number;
}

/** Encode a PUBLISH with `qos`, `retain` and no packet identifier yet. */
export function encodePublish(
  topic: string,
  payload: Uint8Array,
  qos: QoS,
  retain: boolean,
): EncodedPublish {
  const name = encoder.encode(topic);
  const bodyLength = 2 + name.length + (qos > 0 ? 2 : 0) + payload.length;
  const { out, at } = withHeader((PUBLISH << 4) | (qos << 1) | (retain ? 1 : 0), bodyLength);
  out[at] = name.length >> 8;
  out[at + 1] = name.length & 0xff;
  out.set(name, at + 2);
  const idOffset = at + 2 + name.length;
  out.set(payload, qos > 0 ? idOffset + 2 : idOffset);
  return { frame: out, idOffset };
}

/**
 * A received QoS 1/2 PUBLISH (a whole packet) as its subscribers at the same
 * QoS get it: a copy, DUP and RETAIN cleared [MQTT-3.3.1-9], packet
 * identifier still the sender's until {@link setPacketId}. One copy instead of
 * decoding the topic and encoding it all again; the caller checked the packet
 * with {@link decodePublish}.
 */
export function forwardPublish(packet: Uint8Array): EncodedPublish {
  const frame = packet.slice();
  frame[0] = frame[0]! & 0xf6;
  const at = bodyOffset(frame);
  return { frame, idOffset: at + 2 + ((frame[at]! << 8) | frame[at + 1]!) };
}

/** A copy of a QoS 1/2 PUBLISH with packet identifier `id`, and DUP set if `dup`. */
export function withPacketId(encoded: EncodedPublish, id: number, dup: boolean): Uint8Array {
  const source = encoded.frame;
  // Short-lived (it lives until written): a small one is carved (see carve()).
  const frame = source.length <= CARVE_UP_TO ? carve(source.length) : new Uint8Array(source.length);
  frame.set(source);
  return setPacketId({ frame, idOffset: encoded.idOffset }, id, dup);
}

/** Write packet identifier `id` (and DUP if `dup`) into `encoded` itself; returns its frame. */
export function setPacketId(encoded: EncodedPublish, id: number, dup: boolean): Uint8Array {
  const frame = encoded.frame;
  frame[encoded.idOffset] = id >> 8;
  frame[encoded.idOffset + 1] = id & 0xff;
  if (dup) frame[0]! |= 0x08;
  return frame;
}
