/**
 * Reading and writing the integers and strings of MySQL payloads:
 * fixed-length little-endian integers, length-encoded integers and strings,
 * NUL-terminated strings.
 *
 * @module
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A payload was shorter than its fields say, or a field is malformed. */
export class MalformedPacketError extends Error {
  /** Create the error. */
  constructor(message: string) {
    super(message);
    this.name = "MalformedPacketError";
  }
}

/** Builds one payload; grows as needed. */
export class PacketWriter {
  #bytes: Uint8Array;
  #length = 0;

  /** Start an empty payload with room for `capacity` bytes. */
  constructor(capacity = 64) {
    this.#bytes = new Uint8Array(capacity);
  }

  #room(n: number): void {
    if (this.#length + n <= this.#bytes.length) return;
    const next = new Uint8Array(Math.max(this.#bytes.length * 2, this.#length + n));
    next.set(this.#bytes.subarray(0, this.#length));
    this.#bytes = next;
  }

  /** One byte. */
  u8(value: number): this {
    this.#room(1);
    this.#bytes[this.#length++] = value & 0xff;
    return this;
  }

  /** A little-endian integer of `size` bytes (up to 6 as a number). */
  uint(value: number, size: number): this {
    this.#room(size);
    for (let i = 0; i < size; i++) {
      this.#bytes[this.#length++] = value % 256;
      value = Math.floor(value / 256);
    }
    return this;
  }

  /** A little-endian 64-bit integer. */
  u64(value: bigint): this {
    this.#room(8);
    new DataView(this.#bytes.buffer).setBigUint64(this.#length, BigInt.asUintN(64, value), true);
    this.#length += 8;
    return this;
  }

  /** A little-endian IEEE double. */
  f64(value: number): this {
    this.#room(8);
    new DataView(this.#bytes.buffer).setFloat64(this.#length, value, true);
    this.#length += 8;
    return this;
  }

  /** Raw bytes. */
  bytes(value: Uint8Array): this {
    this.#room(value.length);
    this.#bytes.set(value, this.#length);
    this.#length += value.length;
    return this;
  }

  /** UTF-8 text, no terminator. */
  text(value: string): this {
    return this.bytes(encoder.encode(value));
  }

  /** UTF-8 text and a NUL. */
  nulText(value: string): this {
    return this.text(value).u8(0);
  }

  /** A length-encoded integer. */
  lenenc(value: number): this {
    if (value < 0xfb) return this.u8(value);
    if (value < 0x1_0000) return this.u8(0xfc).uint(value, 2);
    if (value < 0x100_0000) return this.u8(0xfd).uint(value, 3);
    return this.u8(0xfe).uint(value, 8);
  }

  /** A length-encoded string (bytes or UTF-8 text). */
  lenencBytes(value: Uint8Array | string): this {
    const bytes = typeof value === "string" ? encoder.encode(value) : value;
    return this.lenenc(bytes.length).bytes(bytes);
  }

  /** The payload so far (a view). */
  finish(): Uint8Array {
    return this.#bytes.subarray(0, this.#length);
  }
}

/** Reads one payload front to back; every read past the end throws {@link MalformedPacketError}. */
export class PacketReader {
  readonly #bytes: Uint8Array;
  #offset: number;

  /** Read `bytes` from `offset`. */
  constructor(bytes: Uint8Array, offset = 0) {
    this.#bytes = bytes;
    this.#offset = offset;
  }

  /** Bytes left. */
  get remaining(): number {
    return this.#bytes.length - this.#offset;
  }

  #need(n: number, what: string): void {
    if (this.#offset + n > this.#bytes.length) {
      throw new MalformedPacketError(`packet ends inside ${what}`);
    }
  }

  /** One byte. */
  u8(): number {
    this.#need(1, "a 1-byte integer");
    return this.#bytes[this.#offset++]!;
  }

  /** A little-endian integer of `size` bytes (up to 6). */
  uint(size: number): number {
    this.#need(size, `a ${size}-byte integer`);
    let value = 0;
    for (let i = size - 1; i >= 0; i--) value = value * 256 + this.#bytes[this.#offset + i]!;
    this.#offset += size;
    return value;
  }

  /** A little-endian signed 64-bit integer. */
  i64(): bigint {
    this.#need(8, "an 8-byte integer");
    const view = new DataView(this.#bytes.buffer, this.#bytes.byteOffset);
    const value = view.getBigInt64(this.#offset, true);
    this.#offset += 8;
    return value;
  }

  /** A little-endian double. */
  f64(): number {
    this.#need(8, "a double");
    const view = new DataView(this.#bytes.buffer, this.#bytes.byteOffset);
    const value = view.getFloat64(this.#offset, true);
    this.#offset += 8;
    return value;
  }

  /** A little-endian float. */
  f32(): number {
    this.#need(4, "a float");
    const view = new DataView(this.#bytes.buffer, this.#bytes.byteOffset);
    const value = view.getFloat32(this.#offset, true);
    this.#offset += 4;
    return value;
  }

  /** `n` raw bytes (a view). */
  bytes(n: number): Uint8Array {
    this.#need(n, `a ${n}-byte field`);
    const value = this.#bytes.subarray(this.#offset, this.#offset + n);
    this.#offset += n;
    return value;
  }

  /** Everything left (a view). */
  rest(): Uint8Array {
    return this.bytes(this.remaining);
  }

  /** Bytes up to a NUL (consumed, not returned); all of the rest if there is none. */
  nulBytes(): Uint8Array {
    const end = this.#bytes.indexOf(0, this.#offset);
    const value = this.#bytes.subarray(this.#offset, end < 0 ? this.#bytes.length : end);
    this.#offset = end < 0 ? this.#bytes.length : end + 1;
    return value;
  }

  /** UTF-8 text up to a NUL. */
  nulText(): string {
    return decoder.decode(this.nulBytes());
  }

  /** A length-encoded integer. */
  lenenc(): number {
    const first = this.u8();
    if (first < 0xfb) return first;
    if (first === 0xfc) return this.uint(2);
    if (first === 0xfd) return this.uint(3);
    if (first === 0xfe) return this.uint(6) + this.uint(2) * 2 ** 48;
    throw new MalformedPacketError(`0x${first.toString(16)} is not a length-encoded integer`);
  }

  /** A length-encoded string's bytes (a view). */
  lenencBytes(): Uint8Array {
    return this.bytes(this.lenenc());
  }

  /** A length-encoded UTF-8 string. */
  lenencText(): string {
    return decoder.decode(this.lenencBytes());
  }
}
