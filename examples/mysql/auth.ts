/**
 * The client's HandshakeResponse41 and `mysql_native_password`.
 *
 * @module
 */
import { createHash, randomBytes } from "node:crypto";
import { MalformedPacketError, PacketReader } from "./bytes.ts";
import { Capability } from "./packets.ts";

/** What HandshakeResponse41 says. */
export interface HandshakeResponse {
  readonly capabilities: number;
  readonly maxPacketSize: number;
  readonly charset: number;
  readonly user: string;
  readonly authResponse: Uint8Array;
  readonly database: string | undefined;
  readonly authPlugin: string | undefined;
  readonly attributes: ReadonlyMap<string, string>;
}

/**
 * Parse Protocol::HandshakeResponse41.
 *
 * @throws {MalformedPacketError} for a short or pre-4.1 response
 */
export function parseHandshakeResponse(payload: Uint8Array): HandshakeResponse {
  const r = new PacketReader(payload);
  const capabilities = r.uint(4);
  if ((capabilities & Capability.PROTOCOL_41) === 0) {
    throw new MalformedPacketError("the client does not speak protocol 4.1");
  }
  if ((capabilities & Capability.SSL) !== 0 && r.remaining === 28) {
    throw new MalformedPacketError("the client asks for TLS, which this server does not offer");
  }
  const maxPacketSize = r.uint(4);
  const charset = r.u8();
  r.bytes(23);
  const user = r.nulText();
  const authResponse = (capabilities & Capability.PLUGIN_AUTH_LENENC_CLIENT_DATA) !== 0
    ? r.lenencBytes()
    : (capabilities & Capability.SECURE_CONNECTION) !== 0
    ? r.bytes(r.u8())
    : r.nulBytes();
  const database = (capabilities & Capability.CONNECT_WITH_DB) !== 0 && r.remaining > 0
    ? r.nulText()
    : undefined;
  const authPlugin = (capabilities & Capability.PLUGIN_AUTH) !== 0 && r.remaining > 0
    ? r.nulText()
    : undefined;
  const attributes = new Map<string, string>();
  if ((capabilities & Capability.CONNECT_ATTRS) !== 0 && r.remaining > 0) {
    const block = new PacketReader(r.lenencBytes());
    while (block.remaining > 0) attributes.set(block.lenencText(), block.lenencText());
  }
  return {
    capabilities,
    maxPacketSize,
    charset,
    user,
    authResponse,
    database: database === "" ? undefined : database,
    authPlugin,
    attributes,
  };
}

/**
 * Whether `payload` is an SSLRequest: the first 32 bytes of
 * HandshakeResponse41 alone (capabilities with CLIENT_SSL, max packet size,
 * charset, 23 zero bytes), after which the client starts TLS at once.
 */
export function isSslRequest(payload: Uint8Array): boolean {
  if (payload.length !== 32) return false;
  const capabilities = new PacketReader(payload).uint(4);
  return (capabilities & Capability.SSL) !== 0;
}

/** 20 random bytes without NUL (the handshake carries the scramble NUL-terminated). */
export function newScramble(): Uint8Array {
  const bytes = new Uint8Array(randomBytes(20));
  for (let i = 0; i < bytes.length; i++) bytes[i] = (bytes[i]! % 94) + 33;
  return bytes;
}

const sha1 = (...parts: Uint8Array[]): Uint8Array => {
  const hash = createHash("sha1");
  for (const part of parts) hash.update(part);
  return new Uint8Array(hash.digest());
};

/** What a client sends for `password` and `scramble`: SHA1(pw) XOR SHA1(scramble ++ SHA1(SHA1(pw))). */
export function nativePasswordToken(password: string, scramble: Uint8Array): Uint8Array {
  if (password === "") return new Uint8Array(0);
  const stage1 = sha1(new TextEncoder().encode(password));
  const stage2 = sha1(stage1);
  const mix = sha1(scramble, stage2);
  return stage1.map((byte, i) => byte ^ mix[i]!);
}

/** True if `token` proves knowledge of `password` for `scramble`. */
export function verifyNativePassword(
  password: string,
  scramble: Uint8Array,
  token: Uint8Array,
): boolean {
  const expected = nativePasswordToken(password, scramble);
  if (expected.length !== token.length) return false;
  let diff = 0;
  for (let i = 0; i < expected.length; i++) diff |= expected[i]! ^ token[i]!;
  return diff === 0;
}
