/**
 * The bytes of one cluster bus message, as they travel through the broker.
 * Internal: only the bus cores on each end read them.
 *
 * ```text
 * magic:u8 = 0x57  version:u8 = 1  kind:u8  status:u8
 * seq:f64be   ref:f64be   (message id within its origin; the request a reply answers)
 * originLen:u16be origin:utf8   channelLen:u16be channel:utf8   payload: the rest
 * ```
 *
 * @module
 */
import { MalformedBusMessageError } from "./errors.ts";

/** What a message is for. */
export const Kind = {
  publish: 1,
  request: 2,
  reply: 3,
  heartbeat: 4,
  leave: 5,
  gather: 6,
} as const;

/** One of {@link Kind}'s values. */
export type KindCode = typeof Kind[keyof typeof Kind];

/** Status of a reply. */
export const Status = { ok: 0, noResponder: 1, handlerFailed: 2 } as const;

/** One decoded bus message. */
export interface WireMessage {
  kind: KindCode;
  status: number;
  origin: string;
  seq: number;
  ref: number;
  channel: string;
  payload: Uint8Array;
}

const MAGIC = 0x57;
const VERSION = 1;
const FIXED = 4 + 8 + 8;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** Encode a message. */
export function encodeMessage(message: WireMessage): Uint8Array {
  const origin = encoder.encode(message.origin);
  const channel = encoder.encode(message.channel);
  const out = new Uint8Array(
    FIXED + 2 + origin.length + 2 + channel.length + message.payload.length,
  );
  const view = new DataView(out.buffer);
  out[0] = MAGIC;
  out[1] = VERSION;
  out[2] = message.kind;
  out[3] = message.status;
  view.setFloat64(4, message.seq);
  view.setFloat64(12, message.ref);
  let at = FIXED;
  view.setUint16(at, origin.length);
  out.set(origin, at + 2);
  at += 2 + origin.length;
  view.setUint16(at, channel.length);
  out.set(channel, at + 2);
  at += 2 + channel.length;
  out.set(message.payload, at);
  return out;
}

/**
 * Decode a message; the payload is a view into `bytes`.
 * @throws {MalformedBusMessageError} for anything that is not a message of this version
 */
export function decodeMessage(bytes: Uint8Array): WireMessage {
  if (bytes.length < FIXED + 4) throw new MalformedBusMessageError(`${bytes.length} bytes`);
  if (bytes[0] !== MAGIC || bytes[1] !== VERSION) {
    throw new MalformedBusMessageError(`magic/version ${bytes[0]}/${bytes[1]}`);
  }
  const kind = bytes[2]!;
  if (kind < Kind.publish || kind > Kind.gather) throw new MalformedBusMessageError(`kind ${kind}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const seq = view.getFloat64(4);
  const ref = view.getFloat64(12);
  if (!Number.isSafeInteger(seq) || !Number.isSafeInteger(ref)) {
    throw new MalformedBusMessageError("message id is not an integer");
  }
  const [origin, afterOrigin] = readString(bytes, view, FIXED, "origin");
  const [channel, payloadAt] = readString(bytes, view, afterOrigin, "channel");
  return {
    kind: kind as KindCode,
    status: bytes[3]!,
    origin,
    seq,
    ref,
    channel,
    payload: bytes.subarray(payloadAt),
  };
}

function readString(
  bytes: Uint8Array,
  view: DataView,
  at: number,
  what: string,
): [string, number] {
  if (at + 2 > bytes.length) throw new MalformedBusMessageError(`${what} length missing`);
  const length = view.getUint16(at);
  const end = at + 2 + length;
  if (end > bytes.length) throw new MalformedBusMessageError(`${what} runs past the end`);
  try {
    return [decoder.decode(bytes.subarray(at + 2, end)), end];
  } catch {
    throw new MalformedBusMessageError(`${what} is not UTF-8`);
  }
}
