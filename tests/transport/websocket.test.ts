/**
 * The WebSocket transport on the running runtime (`deno test`: Deno.serve +
 * Deno.upgradeWebSocket; `bun test`: Bun.serve's websocket), with the `ws`
 * npm package as the client nobody here wrote, and our own client on the
 * runtime's WebSocket global.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import WebSocket from "ws";
import { WireframeApp, WireframeClient, WireframeServer } from "../../mod.ts";
import { ConfigError } from "../../src/error.ts";
import { WebSocketError } from "../../src/transport/errors.ts";
import { type WebSocketConnection, websocketTransport } from "../../src/transport/websocket.ts";
import type { Connection, Listener } from "../../src/transport/types.ts";
import { makeTestPki } from "../_tls/certs.ts";
import { pattern, readAll } from "./_util.ts";

const runtime = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";
const quiet = () => ({ debug() {}, info() {}, warn() {}, error() {} });

/** The next connection the listener yields. */
async function accept(listener: Listener): Promise<Connection> {
  const { value, done } = await listener[Symbol.asyncIterator]().next();
  assert.equal(done, false);
  return value as Connection;
}

/** A `ws` client that is open (or the error/close that stopped it). */
function wsClient(url: string, protocols: string[] = [], options: WebSocket.ClientOptions = {}) {
  const socket = new WebSocket(url, protocols, options);
  socket.binaryType = "nodebuffer";
  const opened = new Promise<WebSocket>((resolve, reject) => {
    socket.once("open", () => resolve(socket));
    socket.once("error", reject);
    socket.once("unexpected-response", (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.once("close", (code, reason) => resolve({ code, reason: reason.toString() }))
  );
  return { socket, opened, closed };
}

test(`${runtime} websocket: a ws client's binary messages are one byte stream to the server, and its writes come back as messages`, async () => {
  await using listener = await websocketTransport().listen({ port: 0 });
  const client = wsClient(`ws://127.0.0.1:${listener.addr.port}/`);
  const accepted = accept(listener);
  const ws = await client.opened;
  const server = await accepted;
  const sent = pattern(0, 100_000);
  for (let i = 0; i < sent.length; i += 7_919) ws.send(sent.subarray(i, i + 7_919)); // split anywhere
  ws.close(1000); // a normal close: the server's readable ends, like a FIN
  assert.deepEqual(await readAll(server.readable), sent);
  assert.equal((await client.closed).code, 1000);
  await server.closed;
});

test(`${runtime} websocket: a WireframeServer app runs unchanged over it, with our client`, async () => {
  const transport = websocketTransport({ path: "/wire", protocols: ["wireframe"] });
  const app = new WireframeApp().logger(quiet()).route(1, (req) => req.payload)
    .route(2, async function* () {
      for (let i = 0; i < 100; i++) yield Uint8Array.of(i);
    });
  await using server = new WireframeServer(app, { transport });
  const { port } = await server.listen({ port: 0 });
  await using client = await WireframeClient.connect({ port, transport });
  const big = pattern(0, 300_000);
  assert.deepEqual((await client.request(1, big)).payload, big);
  const frames = client.stream(2, new Uint8Array(0), { isEnd: (f) => f.payload[0] === 99 });
  assert.equal((await Array.fromAsync(frames)).length, 100);
});

test(`${runtime} websocket: the subprotocol is the server's first choice among the client's offers; no common one is refused with 400`, async () => {
  await using listener = await websocketTransport({ protocols: ["mqttv3.1", "mqtt"] }).listen({
    port: 0,
  });
  const url = `ws://127.0.0.1:${listener.addr.port}/`;
  const accepted = accept(listener);
  const chosen = wsClient(url, ["mqtt", "mqttv3.1"]);
  assert.equal((await chosen.opened).protocol, "mqttv3.1");
  assert.equal((await accepted as WebSocketConnection).protocol, "mqttv3.1");
  chosen.socket.close();
  await assert.rejects(wsClient(url, ["stomp"]).opened, /HTTP 400/);
  await assert.rejects(wsClient(`${url}elsewhere`).opened, /HTTP 404/);
  const none = wsClient(url); // offering none is allowed: no subprotocol
  assert.equal((await none.opened).protocol, "");
  none.socket.close();
});

test(`${runtime} websocket: a message over maxPayload closes that connection with 1009, and the listener carries on`, async () => {
  await using listener = await websocketTransport({ maxPayload: 1024 }).listen({ port: 0 });
  const url = `ws://127.0.0.1:${listener.addr.port}/`;
  const accepted = accept(listener);
  const big = wsClient(url);
  (await big.opened).send(new Uint8Array(1025));
  const server = await accepted;
  await assert.rejects(readAll(server.readable), WebSocketError);
  assert.equal((await big.closed).code, 1009);
  const next = accept(listener);
  const small = wsClient(url);
  (await small.opened).send(new Uint8Array(1024));
  const reader = (await next).readable.getReader();
  assert.equal((await reader.read()).value?.byteLength, 1024);
  small.socket.close();
});

test(`${runtime} websocket: a text message is not stream bytes: the connection closes with 1003`, async () => {
  await using listener = await websocketTransport().listen({ port: 0 });
  const accepted = accept(listener);
  const client = wsClient(`ws://127.0.0.1:${listener.addr.port}/`);
  (await client.opened).send("text");
  await assert.rejects(
    readAll((await accepted).readable),
    (error) => error instanceof WebSocketError && error.closeCode === 1003,
  );
  assert.equal((await client.closed).code, 1003);
});

test(`${runtime} websocket: the heartbeat closes a client that stops answering pings, and keeps one that answers`, async () => {
  await using listener = await websocketTransport({ heartbeatIntervalMs: 1000 }).listen({
    port: 0,
  });
  const url = `ws://127.0.0.1:${listener.addr.port}/`;
  const mute = wsClient(url, [], { autoPong: false });
  const lively = wsClient(url);
  await Promise.all([mute.opened, lively.opened]);
  let pings = 0;
  lively.socket.on("ping", () => pings++);
  const closed = await mute.closed; // waits for the heartbeat, whatever its timing
  assert.notEqual(closed.code, 1000);
  assert.ok(pings >= 1, "the answering client was pinged too");
  assert.equal(lively.socket.readyState, WebSocket.OPEN, "and is still open");
  lively.socket.close();
});

test(`${runtime} websocket: a client that stops reading holds up the server's writes instead of piling them up`, async () => {
  await using listener = await websocketTransport().listen({ port: 0 });
  const accepted = accept(listener);
  const client = wsClient(`ws://127.0.0.1:${listener.addr.port}/`);
  const ws = await client.opened;
  const server = await accepted;
  ws.pause(); // stop reading: TCP back-pressure reaches the server
  const writer = server.writable.getWriter();
  const chunk = new Uint8Array(64 * 1024);
  const total = 256 * 1024 * 1024;
  let written = 0;
  const writing = (async () => {
    while (written < total) {
      await writer.write(chunk);
      written += chunk.byteLength;
    }
  })();
  // Let it run until writes stop resolving: a stall, not a bound on time.
  let before = -1;
  while (before !== written) {
    before = written;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  // Kernel buffers both ways and the runtime's own: a few MiB (about 4 measured on each).
  assert.ok(written <= 32 * 1024 * 1024, `writes went on to ${written} bytes with nobody reading`);
  server.close();
  await writing.catch(() => {});
  ws.terminate();
});

test(`${runtime} websocket: wss with listen({ tls }), checked by a ws client against the test CA`, async () => {
  const pki = makeTestPki();
  try {
    await using listener = await websocketTransport().listen({
      port: 0,
      tls: { cert: pki.cert, key: pki.key },
    });
    const accepted = accept(listener);
    const client = wsClient(`wss://localhost:${listener.addr.port}/`, [], { ca: pki.ca });
    (await client.opened).send(new TextEncoder().encode("secure"));
    const reader = (await accepted).readable.getReader();
    assert.equal(new TextDecoder().decode((await reader.read()).value), "secure");
    client.socket.close();
    await assert.rejects(
      wsClient(`wss://localhost:${listener.addr.port}/`, [], { ca: pki.otherCa }).opened,
    );
  } finally {
    pki.remove();
  }
});

test(`${runtime} websocket: a closed listener refuses new clients; its connections keep working`, async () => {
  const listener = await websocketTransport().listen({ port: 0 });
  const accepted = accept(listener);
  const client = wsClient(`ws://127.0.0.1:${listener.addr.port}/`);
  const ws = await client.opened;
  const server = await accepted;
  await listener.close();
  await assert.rejects(wsClient(`ws://127.0.0.1:${listener.addr.port}/`).opened);
  const writer = server.writable.getWriter();
  const echoed = new Promise<Uint8Array>((resolve) =>
    ws.once("message", (d: Buffer) => resolve(d))
  );
  await writer.write(Uint8Array.of(7));
  assert.deepEqual(new Uint8Array(await echoed), Uint8Array.of(7));
  await writer.close(); // our Close frame; ws answers it
  assert.equal((await client.closed).code, 1000);
  await server.closed;
});

test(`${runtime} websocket: bad options are a ConfigError naming the option`, () => {
  assert.throws(() => websocketTransport({ path: "nope" }), ConfigError);
  assert.throws(() => websocketTransport({ protocols: ["has space"] }), ConfigError);
  assert.throws(() => websocketTransport({ maxPayload: 0 }), /maxPayload/);
  assert.throws(() => websocketTransport({ heartbeatIntervalMs: -1 }), /heartbeatIntervalMs/);
});
