/**
 * The default envelope (DESIGN.md §5) and the {@link Serializer} interface that
 * lets an application plug in its own envelope format.
 *
 * ```
 * body  := id:u32be flags:u8 [correlation:u64be] payload
 * flags := bit 0 set ⇔ correlation present; bits 1-7 must be 0
 * ```
 *
 * @module
 */
import { WireframeBaseError } from "../error.ts";

/**
 * One logical message: a message id that routes it, an optional correlation id
 * that ties a response to its request (absent on unsolicited pushes), and the
 * payload bytes.
 */
export interface Envelope {
  /** Message type, an unsigned 32-bit integer; the router dispatches on it. */
  readonly id: number;
  /** Unsigned 64-bit correlation id; `undefined` for unsolicited frames. */
  readonly correlationId?: bigint | undefined;
  /** The message body. Decoded payloads are views into the received bytes. */
  readonly payload: Uint8Array;
}

/**
 * Turns one frame body into an {@link Envelope} and back. Implement it to use
 * your own envelope format; pass it to `WireframeApp.serializer()` and
 * `WireframeClient.connect({ serializer })`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { Envelope, Serializer } from "@wireframe/wireframe";
 *
 * // A one-byte command id followed by the payload (MySQL-style).
 * const commandByte: Serializer = {
 *   decode: (body) => ({ id: body[0] ?? 0, payload: body.subarray(1) }),
 *   encode: (env: Envelope) => {
 *     const out = new Uint8Array(1 + env.payload.length);
 *     out[0] = env.id;
 *     out.set(env.payload, 1);
 *     return out;
 *   },
 * };
 *
 * const body = commandByte.encode({ id: 3, payload: Uint8Array.of(0x53) });
 * assert.deepEqual(body, Uint8Array.of(3, 0x53));
 * assert.deepEqual(commandByte.decode(body), { id: 3, payload: Uint8Array.of(0x53) });
 * ```
 */
export interface Serializer {
  /** Decode a frame body; throw an {@link EnvelopeError} for a malformed one. */
  decode(body: Uint8Array): Envelope;
  /**
   * Optional fast path: decode the body `bytes[start, end)` as `decode` does
   * a view of it. With a frame decoder that emits spans, the server then
   * makes no view of each frame, only of its payload.
   */
  decodeSpan?(bytes: Uint8Array, start: number, end: number): Envelope;
  /** Encode an envelope into a frame body. */
  encode(envelope: Envelope): Uint8Array;
  /**
   * Optional fast path: the exact size of `envelope`'s body; throws an
   * {@link EnvelopeError} if it cannot be encoded. With `encodeInto`, it lets
   * the writer encode straight into its output buffer (no allocation per frame).
   */
  encodedLength?(envelope: Envelope): number;
  /**
   * Optional fast path: write the body at `offset` in `target`; returns bytes
   * written. Only called after `encodedLength` accepted the same envelope.
   */
  encodeInto?(envelope: Envelope, target: Uint8Array, offset: number): number;
}

/** Why an envelope could not be decoded or encoded. */
export type EnvelopeErrorReason =
  | "too-short"
  | "reserved-flags"
  | "invalid-id"
  | "invalid-correlation"
  | "invalid-payload";

/**
 * A frame body is not a valid envelope (decode), or an envelope cannot be
 * represented on the wire (encode). On decode this is a protocol violation
 * handled by the app's malformed-frame policy.
 */
export class EnvelopeError extends WireframeBaseError {
  /** What exactly is wrong. */
  readonly reason: EnvelopeErrorReason;

  /**
   * Create the error; `reason` sets the field of that name.
   *
   * @param message human-readable description
   */
  constructor(reason: EnvelopeErrorReason, message: string) {
    super("ERR_MALFORMED_ENVELOPE", message);
    this.reason = reason;
  }
}

const FLAG_CORRELATION = 0x01;
const BASE_HEADER = 5;
const CORRELATED_HEADER = 13;
const MAX_U64 = 0xffff_ffff_ffff_ffffn;

/**
 * The default envelope format of DESIGN.md §5. Decoding is zero-copy: the
 * payload is a view of the frame body.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defaultSerializer } from "@wireframe/wireframe";
 *
 * const body = defaultSerializer.encode({ id: 1, correlationId: 7n, payload: new Uint8Array([42]) });
 * assert.deepEqual(body, Uint8Array.of(0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 7, 42));
 * const env = defaultSerializer.decode(body);
 * assert.deepEqual(env, { id: 1, correlationId: 7n, payload: Uint8Array.of(42) });
 * ```
 */
export const defaultSerializer: Serializer = {
  decode(body: Uint8Array): Envelope {
    return defaultSerializer.decodeSpan!(body, 0, body.length);
  },

  decodeSpan(bytes: Uint8Array, start: number, end: number): Envelope {
    const length = end - start;
    if (length < BASE_HEADER) {
      throw new EnvelopeError(
        "too-short",
        `envelope body is ${length} bytes, shorter than its ${BASE_HEADER}-byte header`,
      );
    }
    // Byte arithmetic instead of a DataView: no allocation per frame on the hot path.
    const id = readU32(bytes, start);
    const flags = bytes[start + 4]!;
    if ((flags & ~FLAG_CORRELATION) !== 0) {
      throw new EnvelopeError(
        "reserved-flags",
        `envelope flags 0x${flags.toString(16).padStart(2, "0")} set reserved bits 1-7`,
      );
    }
    if ((flags & FLAG_CORRELATION) === 0) {
      return { id, payload: bytes.subarray(start + BASE_HEADER, end) };
    }
    if (length < CORRELATED_HEADER) {
      throw new EnvelopeError(
        "too-short",
        `envelope body is ${length} bytes, shorter than its ${CORRELATED_HEADER}-byte header`,
      );
    }
    return {
      id,
      correlationId: readU64(bytes, start + 5),
      payload: bytes.subarray(start + CORRELATED_HEADER, end),
    };
  },

  encode(envelope: Envelope): Uint8Array {
    const body = new Uint8Array(defaultSerializer.encodedLength!(envelope));
    defaultSerializer.encodeInto!(envelope, body, 0);
    return body;
  },

  encodedLength(envelope: Envelope): number {
    const { id, correlationId, payload } = envelope;
    if (!Number.isInteger(id) || id < 0 || id > 0xffff_ffff) {
      throw new EnvelopeError("invalid-id", `envelope id must be a u32, got ${id}`);
    }
    // A string would pass for one (it has a length) and go out as zeros.
    if (!(payload instanceof Uint8Array)) {
      throw new EnvelopeError(
        "invalid-payload",
        `envelope payload must be a Uint8Array, got ${describeValue(payload)}`,
      );
    }
    if (correlationId === undefined) return BASE_HEADER + payload.length;
    if (typeof correlationId !== "bigint" || correlationId < 0n || correlationId > MAX_U64) {
      throw new EnvelopeError(
        "invalid-correlation",
        `envelope correlationId must be a u64 bigint, got ${String(correlationId)}`,
      );
    }
    return CORRELATED_HEADER + payload.length;
  },

  encodeInto(envelope: Envelope, target: Uint8Array, offset: number): number {
    const { id, correlationId, payload } = envelope;
    writeU32(target, offset, id);
    let header = BASE_HEADER;
    if (correlationId === undefined) {
      target[offset + 4] = 0;
    } else {
      target[offset + 4] = FLAG_CORRELATION;
      writeU64(target, offset + 5, correlationId);
      header = CORRELATED_HEADER;
    }
    target.set(payload, offset + header);
    return header + payload.length;
  },
};

function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (typeof value !== "object") return typeof value;
  return value.constructor?.name ?? "object";
}

function readU32(bytes: Uint8Array, offset: number): number {
  return (bytes[offset]! * 0x100_0000) +
    ((bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!);
}

function writeU32(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value >>> 24;
  bytes[offset + 1] = (value >>> 16) & 0xff;
  bytes[offset + 2] = (value >>> 8) & 0xff;
  bytes[offset + 3] = value & 0xff;
}

// Correlation ids are usually small: skip the BigInt shifts when the high word is 0.
function readU64(bytes: Uint8Array, offset: number): bigint {
  const high = readU32(bytes, offset);
  const low = BigInt(readU32(bytes, offset + 4));
  return high === 0 ? low : (BigInt(high) << 32n) | low;
}

function writeU64(bytes: Uint8Array, offset: number, value: bigint): void {
  if (value <= 0xffff_ffffn) {
    writeU32(bytes, offset, 0);
    writeU32(bytes, offset + 4, Number(value));
    return;
  }
  writeU32(bytes, offset, Number(value >> 32n));
  writeU32(bytes, offset + 4, Number(value & 0xffff_ffffn));
}
