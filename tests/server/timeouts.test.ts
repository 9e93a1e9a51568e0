/**
 * Connection timeouts (handshake, idle, slow frame) and the protocol's last
 * frames before a close. Tests wait on events (a connection's end, a frame),
 * never on the clock: the timeouts are short, the assertions are about what
 * happened, not when.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { appSpec, WireframeApp } from "../../src/app/app.ts";
import { ConnectionTimeoutError } from "../../src/app/timeouts.ts";
import { FrameTooLargeError } from "../../src/codec/errors.ts";
import { ConfigError } from "../../src/error.ts";
import { memoryTransport } from "../../src/transport/memory.ts";
import type { Transport } from "../../src/transport/types.ts";
import {
  captureLogger,
  frame,
  RawClient,
  serve,
  str,
  text,
  u32,
  waitFor,
} from "../e2e/_helpers.ts";

const PING = 1, CONNECT = 2, BYE = 99;
const transports: [string, Transport | undefined][] = [
  ["memory", memoryTransport],
  ["tcp", undefined], // the platform's TCP
];

test("defaults: slow-frame 30 s, handshake 30 s only with phases, idle off", () => {
  assert.deepEqual(appSpec(new WireframeApp()).timeouts, {
    handshakeMs: 0,
    idleMs: 0,
    slowFrameMs: 30_000,
  });
  assert.deepEqual(appSpec(new WireframeApp().phases({ initial: "handshake" })).timeouts, {
    handshakeMs: 30_000,
    idleMs: 0,
    slowFrameMs: 30_000,
  });
  assert.equal(appSpec(new WireframeApp().timeouts({ slowFrameMs: 0 })).timeouts.slowFrameMs, 0);
  assert.throws(() => new WireframeApp().timeouts({ idleMs: -1 }), ConfigError);
  assert.throws(() => new WireframeApp().timeouts({ slowFrameMs: 1.5 }), ConfigError);
  assert.throws(() => new WireframeApp().timeouts({ bogus: 1 } as never), ConfigError);
});

for (const [name, transport] of transports) {
  test(`${name}: slowloris: 500 connections that send 2 header bytes are all closed, while a healthy client's round trips go on`, async () => {
    const { logger, records } = captureLogger();
    const app = new WireframeApp()
      .logger(logger)
      .timeouts({ slowFrameMs: 100 })
      .route(PING, (request) => request.payload);
    await using running = await serve(app, { transport: transport, maxConnections: 1_000 });
    const stalled = await Promise.all(
      Array.from({ length: 500 }, () => RawClient.connect(running.port, transport)),
    );
    await Promise.all(stalled.map((raw) => raw.write(Uint8Array.of(0, 0))));
    await using healthy = await RawClient.connect(running.port, transport);
    const ends = Promise.all(stalled.map((raw) => raw.readEnd("the slow-frame close")));
    let rounds = 0;
    let done = false;
    ends.then(() => (done = true));
    while (!done) {
      await healthy.write(frame(PING, BigInt(++rounds), u32(rounds)));
      const echo = await healthy.readFrame("an echo while the stalled ones are closed");
      assert.equal(echo.correlationId, BigInt(rounds));
    }
    await ends;
    assert.ok(rounds > 0);
    // Each was closed with our FIN; answering it lets the server finish (and count) the close.
    await Promise.all(stalled.map((raw) => raw.answerFin()));
    await waitFor(() => running.server.stats().connectionsActive === 1, "the stalled ones to end");
    const stats = running.server.stats();
    assert.equal(stats.timeouts, 500);
    assert.equal(stats.connectionErrors, 500);
    const closes = records.filter((r) => r.message === "connection closed: timeout");
    assert.equal(closes.length, 500);
    assert.ok(closes.every((r) => r.level === "debug"));
    const error = closes[0]!.fields!.error;
    assert.ok(error instanceof ConnectionTimeoutError);
    assert.equal(error.reason, "slow-frame");
    for (const raw of stalled) await raw[Symbol.asyncDispose]();
    await healthy.write(frame(PING, 0n, u32(0)));
    assert.equal((await healthy.readFrame()).correlationId, 0n, "the healthy one is still served");
  });
}

test("an idle timeout set per connection after the handshake closes a silent peer, after the protocol's last frame", async () => {
  const farewells: unknown[] = [];
  const app = new WireframeApp()
    .logger(captureLogger().logger)
    .withProtocol({
      closingFrames: (error) => {
        farewells.push(error);
        return { id: BYE, payload: text(String((error as Error).message)) };
      },
    })
    .route(CONNECT, (_request, ctx) => {
      ctx.setIdleTimeout(40); // as MQTT sets 1.5 × the client's keepalive
      return text("connected");
    });
  await using running = await serve(app, { transport: memoryTransport });
  await using raw = await RawClient.connect(running.port, memoryTransport);
  await raw.write(frame(CONNECT, 1n));
  assert.equal(str((await raw.readFrame()).payload), "connected");
  const bye = await raw.readFrame("the last frame");
  assert.deepEqual([bye.id, bye.correlationId], [BYE, undefined]);
  assert.match(str(bye.payload), /no frame within 40 ms/);
  assert.equal((await raw.readEnd()).how, "eof");
  await raw.answerFin();
  await waitFor(() => running.server.stats().connectionsActive === 0, "the close");
  assert.equal(farewells.length, 1);
  assert.ok(farewells[0] instanceof ConnectionTimeoutError && farewells[0].reason === "idle");
  assert.equal(running.server.stats().timeouts, 1);
});

test("a handshake phase that never ends is closed at the handshake timeout", async () => {
  const app = new WireframeApp()
    .logger(captureLogger().logger)
    .phases({ initial: "handshake" })
    .timeouts({ handshakeMs: 30 })
    .withProtocol({ closingFrames: (error) => text((error as ConnectionTimeoutError).reason) })
    .route(CONNECT, () => text("not yet"), { phase: "handshake" });
  await using running = await serve(app, { transport: memoryTransport });
  await using raw = await RawClient.connect(running.port, memoryTransport);
  await raw.write(frame(CONNECT, 1n)); // answered, but the handler never moves on
  assert.equal(str((await raw.readFrame()).payload), "not yet");
  assert.equal(str((await raw.readFrame("the last frame")).payload), "handshake");
  assert.equal((await raw.readEnd()).how, "eof");
  await raw.answerFin();
  await waitFor(() => running.server.stats().connectionsActive === 0, "the close");
  assert.equal(running.server.stats().timeouts, 1);
});

test("the protocol may answer bad framing before the connection closes", async () => {
  const app = new WireframeApp()
    .logger(captureLogger().logger)
    .codec({ maxFrameLength: 64 })
    .withProtocol({
      closingFrames: (error) =>
        error instanceof FrameTooLargeError ? text("-ERR frame too large") : undefined,
    });
  await using running = await serve(app, { transport: memoryTransport });
  await using raw = await RawClient.connect(running.port, memoryTransport);
  await raw.write(Uint8Array.of(0, 0, 1, 0)); // declares 256 bytes
  const answer = await raw.readFrame("the last reply");
  assert.deepEqual([answer.id, str(answer.payload)], [0, "-ERR frame too large"]);
  assert.equal((await raw.readEnd()).how, "eof");
  await raw.answerFin();
  await waitFor(() => running.server.stats().connectionsActive === 0, "the close");
  assert.equal(running.server.stats().protocolViolations, 1);
});

test("setIdleTimeout validates its argument", async () => {
  let refusal: unknown;
  const app = new WireframeApp().logger(captureLogger().logger).route(PING, (_request, ctx) => {
    try {
      ctx.setIdleTimeout(-5);
    } catch (error) {
      refusal = error;
    }
    return text("ok");
  });
  await using running = await serve(app, { transport: memoryTransport });
  await using raw = await RawClient.connect(running.port, memoryTransport);
  await raw.write(frame(PING, 1n));
  assert.equal(str((await raw.readFrame()).payload), "ok");
  assert.ok(refusal instanceof ConfigError);
});
