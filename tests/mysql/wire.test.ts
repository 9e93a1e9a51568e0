/**
 * examples/mysql at the packet level, over TCP with a raw client: the
 * greeting, sequence ids (per command, continued by replies, pipelined
 * commands), the 0xFFFFFF continuation, and bad input (packets out of order,
 * a malformed handshake response, a refused LOCAL INFILE).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { nativePasswordToken } from "../../examples/mysql/auth.ts";
import { mysqlApp } from "../../examples/mysql/app.ts";
import { Fragmenter } from "../../src/fragment/fragmenter.ts";
import { MysqlPacketStrategy } from "../../examples/mysql/packet_strategy.ts";
import { Capability } from "../../examples/mysql/packets.ts";
import { captureLogger, RawClient, serve } from "../e2e/_helpers.ts";

const encoder = new TextEncoder();
const MAX = 0xff_ffff;

interface Packet {
  readonly seq: number;
  readonly payload: Uint8Array;
}

function packet(seq: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + payload.length);
  out.set([payload.length & 0xff, (payload.length >> 8) & 0xff, payload.length >> 16, seq]);
  out.set(payload, 4);
  return out;
}

async function readPacket(raw: RawClient): Promise<Packet> {
  const header = await raw.readBytes(4, "a packet header");
  const length = header[0]! | (header[1]! << 8) | (header[2]! << 16);
  return {
    seq: header[3]!,
    payload: length === 0 ? new Uint8Array(0) : await raw.readBytes(length),
  };
}

const command = (code: number, text = "") => Uint8Array.from([code, ...encoder.encode(text)]);

const CAPS = Capability.PROTOCOL_41 | Capability.SECURE_CONNECTION | Capability.PLUGIN_AUTH |
  Capability.DEPRECATE_EOF | Capability.SESSION_TRACK | Capability.TRANSACTIONS |
  Capability.LOCAL_FILES;

function handshakeResponse(
  scramble: Uint8Array,
  password: string,
  caps = CAPS,
  plugin = "mysql_native_password",
): Uint8Array {
  const fixed = new Uint8Array(32);
  new DataView(fixed.buffer).setUint32(0, caps, true);
  new DataView(fixed.buffer).setUint32(4, 1 << 24, true);
  fixed[8] = 45;
  const token = nativePasswordToken(password, scramble);
  return Uint8Array.from([
    ...fixed,
    ...encoder.encode("root\0"),
    token.length,
    ...token,
    ...encoder.encode(`${plugin}\0`),
  ]);
}

function scrambleOf(greeting: Uint8Array): Uint8Array {
  const versionEnd = greeting.indexOf(0, 1);
  return Uint8Array.from([
    ...greeting.subarray(versionEnd + 5, versionEnd + 13),
    ...greeting.subarray(versionEnd + 32, versionEnd + 44),
  ]);
}

/** Connect and log in; returns the client after the OK. */
async function login(port: number, password = "pw"): Promise<RawClient> {
  const raw = await RawClient.connect(port);
  const greeting = await readPacket(raw);
  const p = greeting.payload;
  const versionEnd = p.indexOf(0, 1);
  const scramble = Uint8Array.from([
    ...p.subarray(versionEnd + 5, versionEnd + 13),
    ...p.subarray(versionEnd + 32, versionEnd + 44),
  ]);
  await raw.write(packet(1, handshakeResponse(scramble, password)));
  const ok = await readPacket(raw);
  assert.deepEqual([ok.seq, ok.payload[0]], [2, 0x00], "the OK after auth is packet 2");
  return raw;
}

async function server() {
  const { app } = mysqlApp({ password: "pw" });
  return await serve(app.logger(captureLogger().logger));
}

test("the server speaks first: handshake v10 as packet 0, mysql_native_password, the capabilities", async () => {
  await using running = await server();
  await using raw = await RawClient.connect(running.port);
  const greeting = await readPacket(raw);
  assert.equal(greeting.seq, 0);
  const p = greeting.payload;
  assert.equal(p[0], 10, "protocol version 10");
  const versionEnd = p.indexOf(0, 1);
  assert.match(new TextDecoder().decode(p.subarray(1, versionEnd)), /^8\.0\.\d+-wireframe$/);
  const view = new DataView(p.buffer, p.byteOffset);
  const caps = view.getUint16(versionEnd + 14, true) |
    (view.getUint16(versionEnd + 19, true) << 16);
  for (
    const flag of [
      "PROTOCOL_41",
      "SECURE_CONNECTION",
      "PLUGIN_AUTH",
      "PLUGIN_AUTH_LENENC_CLIENT_DATA",
      "CONNECT_WITH_DB",
      "CONNECT_ATTRS",
      "LOCAL_FILES",
      "SESSION_TRACK",
      "TRANSACTIONS",
      "DEPRECATE_EOF",
    ] as const
  ) assert.ok((caps & Capability[flag]) !== 0, flag);
  assert.equal(new TextDecoder().decode(p.subarray(-22, -1)), "mysql_native_password");
});

test("sequence ids: each command starts at 0, replies continue it, pipelined commands each restart", async () => {
  await using running = await server();
  await using raw = await login(running.port);
  await raw.write(packet(0, command(0x03, "SELECT * FROM seq_1_to_3")));
  const reply = [];
  for (let i = 0; i < 6; i++) reply.push(await readPacket(raw)); // count, column, 3 rows, OK
  assert.deepEqual(reply.map((p) => p.seq), [1, 2, 3, 4, 5, 6]);
  assert.equal(reply[5]!.payload[0], 0xfe, "DEPRECATE_EOF: the 0xFE OK ends the rows");
  // Three commands in one write: every reply is packet 1 of its own command.
  await raw.write(
    Uint8Array.from([
      ...packet(0, command(0x0e)),
      ...packet(0, command(0x03, "SELECT 7")),
      ...packet(0, command(0x0e)),
    ]),
  );
  const seqs = [];
  for (let i = 0; i < 1 + 4 + 1; i++) seqs.push((await readPacket(raw)).seq);
  assert.deepEqual(seqs, [1, 1, 2, 3, 4, 1]);
});

test("a packet out of order gets ERR 1156 and the connection closes; others carry on", async () => {
  await using running = await server();
  await using bad = await login(running.port);
  await using good = await login(running.port);
  await bad.write(packet(5, command(0x0e)));
  const err = await readPacket(bad);
  assert.equal(err.payload[0], 0xff);
  assert.equal(err.payload[1]! | (err.payload[2]! << 8), 1156);
  assert.equal((await bad.readEnd()).how, "eof");
  await good.write(packet(0, command(0x0e)));
  assert.equal((await readPacket(good)).payload[0], 0x00);
});

test("a malformed handshake response gets ERR 1043 and the close", async () => {
  await using running = await server();
  await using raw = await RawClient.connect(running.port);
  await readPacket(raw);
  await raw.write(packet(1, Uint8Array.of(1, 2, 3)));
  const err = await readPacket(raw);
  assert.equal(err.payload[1]! | (err.payload[2]! << 8), 1043);
  assert.equal((await raw.readEnd()).how, "eof");
});

test("LOAD DATA LOCAL INFILE refused (an empty packet at once) gets a clean ERR; the session goes on", async () => {
  await using running = await server();
  await using raw = await login(running.port);
  await raw.write(packet(0, command(0x03, "CREATE TABLE test.t (a INT)")));
  await readPacket(raw);
  await raw.write(packet(0, command(0x03, "LOAD DATA LOCAL INFILE 'x.csv' INTO TABLE test.t")));
  const request = await readPacket(raw);
  assert.deepEqual([request.seq, request.payload[0]], [1, 0xfb]);
  assert.equal(new TextDecoder().decode(request.payload.subarray(1)), "x.csv");
  await raw.write(packet(2, new Uint8Array(0)));
  const err = await readPacket(raw);
  assert.equal(err.seq, 3);
  assert.equal(err.payload[1]! | (err.payload[2]! << 8), 1148);
  await raw.write(packet(0, command(0x0e)));
  assert.equal((await readPacket(raw)).payload[0], 0x00);
});

test("LOAD DATA LOCAL INFILE in packets of any size, one of them 0xFFFFFF + more (re-assembled), then OK", async () => {
  await using running = await server();
  await using raw = await login(running.port);
  await raw.write(packet(0, command(0x03, "CREATE TABLE test.t (a INT, b LONGTEXT)")));
  await readPacket(raw);
  await raw.write(packet(0, command(0x03, "LOAD DATA LOCAL INFILE 'x' INTO TABLE test.t")));
  assert.equal((await readPacket(raw)).payload[0], 0xfb);
  // 20 MiB in one logical packet: 0xFFFFFF bytes, then the rest, then small ones.
  const big = new Uint8Array(20 * 1024 * 1024).fill(0x61);
  big.set(encoder.encode("1\t"), 0);
  big[big.length - 1] = 0x0a;
  await raw.write(packet(2, big.subarray(0, MAX)));
  await raw.write(packet(3, big.subarray(MAX)));
  await raw.write(packet(4, encoder.encode("2\tsmall\n")));
  await raw.write(packet(5, new Uint8Array(0)));
  const ok = await readPacket(raw);
  assert.deepEqual([ok.seq, ok.payload[0], ok.payload[1]], [6, 0x00, 2], "OK, 2 rows, packet 6");
});

test("the strategy: a message of exactly 0xFFFFFF bytes goes out as a full packet and an empty one", () => {
  const strategy = new MysqlPacketStrategy().forConnection();
  const fragments: [number, number][] = [];
  new Fragmenter(strategy, { maxMessageSize: 64 * 1024 * 1024 }).split(
    new Uint8Array(MAX),
    (f) => void fragments.push([f[0]!, f.length - 1]),
  );
  assert.deepEqual(fragments, [[0, MAX], [1, 0]]);
});

test("a client proposing another auth plugin is switched to mysql_native_password (a conversation)", async () => {
  await using running = await server();
  await using raw = await RawClient.connect(running.port);
  const scramble = scrambleOf((await readPacket(raw)).payload);
  await raw.write(packet(1, handshakeResponse(scramble, "pw", CAPS, "caching_sha2_password")));
  const change = await readPacket(raw);
  assert.deepEqual([change.seq, change.payload[0]], [2, 0xfe], "AuthSwitchRequest");
  const body = change.payload;
  const nameEnd = body.indexOf(0, 1);
  assert.equal(new TextDecoder().decode(body.subarray(1, nameEnd)), "mysql_native_password");
  const fresh = body.subarray(nameEnd + 1, nameEnd + 21);
  await raw.write(packet(3, nativePasswordToken("pw", fresh)));
  const ok = await readPacket(raw);
  assert.deepEqual([ok.seq, ok.payload[0]], [4, 0x00]);
});

test("COM_FIELD_LIST lists a table's columns; COM_STMT_PREPARE / EXECUTE (binary rows, NULLs) / RESET / CLOSE", async () => {
  await using running = await server();
  await using raw = await login(running.port);
  const query = async (sql: string) => {
    await raw.write(packet(0, command(0x03, sql)));
    return await readPacket(raw);
  };
  await query("CREATE DATABASE d");
  await raw.write(packet(0, command(0x02, "d"))); // COM_INIT_DB
  assert.equal((await readPacket(raw)).payload[0], 0x00);
  await query("CREATE TABLE t (id INT, name VARCHAR(10))");
  await query("INSERT INTO t VALUES (1, NULL), (2, 'two')");
  await raw.write(packet(0, Uint8Array.from([0x04, ...encoder.encode("t\0")])));
  const fields = [await readPacket(raw), await readPacket(raw), await readPacket(raw)];
  assert.deepEqual(fields.map((p) => p.seq), [1, 2, 3]);
  assert.equal(fields[2]!.payload[0], 0xfe, "then the end (0xFE OK with DEPRECATE_EOF)");
  assert.ok(new TextDecoder().decode(fields[1]!.payload).includes("name"));

  await raw.write(packet(0, command(0x16, "SELECT id, name FROM t WHERE id = ?")));
  const prepared = await readPacket(raw);
  assert.equal(prepared.payload[0], 0x00);
  const id = new DataView(prepared.payload.buffer, prepared.payload.byteOffset).getUint32(1, true);
  assert.equal(prepared.payload[5]! | (prepared.payload[6]! << 8), 2, "two columns");
  assert.equal(prepared.payload[7]! | (prepared.payload[8]! << 8), 1, "one parameter");
  for (let i = 0; i < 1 + 2; i++) await readPacket(raw); // the parameter's and the columns' definitions
  const execute = (value: number) =>
    packet(0, Uint8Array.from([0x17, id, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 0, value, 0, 0, 0]));
  await raw.write(execute(1));
  const reply = [];
  for (let i = 0; i < 5; i++) reply.push(await readPacket(raw)); // count, 2 columns, row, OK
  const row = reply[3]!.payload;
  assert.equal(row[0], 0x00, "a binary row");
  assert.equal(row[1]! & (1 << 3), 1 << 3, "name (column 1) is NULL: bit 1 + 2 of the bitmap");
  assert.deepEqual([...row.subarray(2, 6)], [1, 0, 0, 0], "id as a 4-byte INT");
  await raw.write(packet(0, Uint8Array.of(0x1a, id, 0, 0, 0))); // COM_STMT_RESET
  assert.equal((await readPacket(raw)).payload[0], 0x00);
  await raw.write(packet(0, Uint8Array.of(0x19, id, 0, 0, 0))); // COM_STMT_CLOSE: no reply
  await raw.write(execute(2));
  const gone = await readPacket(raw);
  assert.equal(
    gone.payload[1]! | (gone.payload[2]! << 8),
    1243,
    "unknown statement after the close",
  );
});

test("random packets after login, for every command byte, never take the server down", async () => {
  await using running = await server();
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 0, max: 0x20 }),
      fc.uint8Array({ maxLength: 40 }),
      async (code, body) => {
        await using raw = await login(running.port);
        await raw.write(packet(0, Uint8Array.from([code, ...body])));
        await raw.write(packet(0, command(0x0e))); // and a ping behind it
      },
    ),
    { numRuns: 60 },
  );
  await using fresh = await login(running.port);
  await fresh.write(packet(0, command(0x03, "SELECT 1")));
  assert.equal((await readPacket(fresh)).payload[0], 1, "a fresh connection is served");
});

test("a client that does not authenticate in time gets ERR 1159, then the close", async () => {
  const { app } = mysqlApp({ password: "pw", handshakeTimeoutMs: 50 });
  await using running = await serve(app.logger(captureLogger().logger));
  await using raw = await RawClient.connect(running.port);
  assert.equal((await readPacket(raw)).seq, 0, "the greeting");
  const err = await readPacket(raw); // then silence: the server gives up
  assert.equal(err.payload[0], 0xff);
  assert.equal(err.payload[1]! | (err.payload[2]! << 8), 1159);
  assert.equal((await raw.readEnd()).how, "eof");
  assert.equal(running.server.stats().timeouts, 1);
});
