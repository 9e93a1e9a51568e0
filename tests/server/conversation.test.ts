/**
 * Conversations (`ctx.next()`, `ctx.receive()`) and the protocol's greeting,
 * over the memory transport and the runtime's TCP.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { WireframeApp } from "../../src/app/app.ts";
import { ConversationError } from "../../src/app/conversation.ts";
import type { Envelope } from "../../src/codec/envelope.ts";
import { memoryTransport } from "../../src/transport/memory.ts";
import type { Transport } from "../../src/transport/types.ts";
import {
  captureLogger,
  concat,
  frame,
  RawClient,
  serve,
  signal,
  str,
  text,
} from "../e2e/_helpers.ts";

const QUERY = 3, FILE_REQUEST = 0xfb, DATA = 4, OK = 0, PING = 9, PUSHED = 77;

/**
 * A LOAD DATA LOCAL INFILE-shaped command: the server answers QUERY with a
 * file request, reads data frames up to an empty one, then answers OK with
 * what it got. A push goes out while it reads.
 */
function infileApp() {
  const { logger, records } = captureLogger();
  const received: string[] = [];
  let commandsEnded = 0;
  const app = new WireframeApp()
    .logger(logger)
    .withProtocol({ onCommandEnd: () => void commandsEnded++ })
    .route(QUERY, async function* (_request, ctx) {
      yield { id: FILE_REQUEST, payload: text("data.csv") };
      for await (const data of ctx.receive()) {
        if (data.payload.length === 0) break;
        received.push(str(data.payload));
        ctx.push.tryPush({ id: PUSHED, payload: data.payload });
      }
      yield { id: OK, payload: text(received.join(",")) };
    })
    .route(PING, () => text("pong"));
  return { app, records, received, ended: () => commandsEnded };
}

const transports: [string, Transport | undefined][] = [
  ["memory", memoryTransport],
  ["tcp", undefined],
];

for (const [name, transport] of transports) {
  test(`${name}: a command that receives its data frames, with pushes interleaved, then the next request is routed`, async () => {
    const { app, received, ended } = infileApp();
    await using running = await serve(app, { transport });
    await using raw = await RawClient.connect(running.port, transport);
    await raw.write(frame(QUERY, 1n, text("LOAD DATA LOCAL INFILE")));
    const request = await raw.readFrame("the file request");
    assert.deepEqual([request.id, request.correlationId, str(request.payload)], [
      FILE_REQUEST,
      1n,
      "data.csv",
    ]);
    await raw.write(concat(frame(DATA, 2n, text("a")), frame(DATA, 3n, text("b"))));
    await raw.write(concat(frame(DATA, 4n, text("c")), frame(DATA, 5n), frame(PING, 6n)));
    const seen: Envelope[] = [];
    while (seen.length < 5) seen.push(await raw.readFrame("pushes, OK and pong"));
    const pushes = seen.filter((f) => f.id === PUSHED).map((f) => str(f.payload));
    const answers = seen.filter((f) => f.id !== PUSHED);
    assert.deepEqual(pushes, ["a", "b", "c"], "every push arrived, in order");
    assert.deepEqual(answers.map((f) => [f.id, f.correlationId, str(f.payload)]), [
      [OK, 1n, "a,b,c"],
      [PING, 6n, "pong"],
    ], "OK answers the command; the PING after it was routed, not received");
    assert.deepEqual(received, ["a", "b", "c"]);
    assert.equal(ended(), 2, "one onCommandEnd per command (QUERY, PING)");
    assert.equal(running.server.stats().requests, 2, "data frames are not requests");
  });
}

test("frames pipelined before the handler asks are held for it, and one it did not take goes to the router", async () => {
  const got: string[] = [];
  const app = new WireframeApp()
    .logger(captureLogger().logger)
    .route(QUERY, async (_request, ctx) => {
      got.push(str((await ctx.next()).payload)); // takes exactly one frame
      return text("done");
    })
    .route(PING, (request) => request.payload);
  await using running = await serve(app, { transport: memoryTransport });
  await using raw = await RawClient.connect(running.port, memoryTransport);
  await raw.write(concat(frame(QUERY, 1n), frame(DATA, 2n, text("x")), frame(PING, 3n, text("y"))));
  const done = await raw.readFrame();
  const pong = await raw.readFrame();
  assert.deepEqual([done.correlationId, str(done.payload)], [1n, "done"]);
  assert.deepEqual([pong.id, pong.correlationId, str(pong.payload)], [PING, 3n, "y"]);
  assert.deepEqual(got, ["x"]);
});

test("a peer that resets mid-conversation gives the handler a typed error; the server carries on", async () => {
  const failure = signal<unknown>();
  const tornDown = signal();
  const app = new WireframeApp()
    .logger(captureLogger().logger)
    .onConnectionTeardown(() => tornDown.resolve())
    .route(QUERY, async function* (_request, ctx) {
      yield { id: FILE_REQUEST, payload: new Uint8Array(0) };
      try {
        for await (const _ of ctx.receive()) { /* waits for more */ }
      } catch (error) {
        failure.resolve(error);
      }
    })
    .route(PING, () => text("pong"));
  await using running = await serve(app, { transport: memoryTransport });
  const raw = await RawClient.connect(running.port, memoryTransport);
  await raw.write(concat(frame(QUERY, 1n), frame(DATA, 2n, text("part"))));
  await raw.readFrame("the file request");
  raw.close(); // a reset, mid-upload
  const error = await failure.promise;
  assert.ok(error instanceof ConversationError, `typed error (got ${error})`);
  assert.equal(error.reason, "peer-closed");
  await tornDown.promise;
  await using other = await RawClient.connect(running.port, memoryTransport);
  await other.write(frame(PING, 1n));
  assert.equal(str((await other.readFrame()).payload), "pong");
});

test("next() times out with a typed error, rejects outside a command and when called twice at once", async () => {
  const outcomes: unknown[] = [];
  const late = signal<unknown>();
  const app = new WireframeApp()
    .logger(captureLogger().logger)
    .route(PING, (_request, ctx) => {
      // After this (synchronous) command has ended, no frame is this handler's.
      queueMicrotask(() => ctx.next().catch((error) => late.resolve(error)));
      return text("pong");
    })
    .route(QUERY, async (_request, ctx) => {
      const waiting = ctx.next({ timeoutMs: 20 });
      outcomes.push(await ctx.next().catch((error) => error));
      outcomes.push(await waiting.catch((error) => error));
      return text("after");
    });
  await using running = await serve(app, { transport: memoryTransport });
  await using raw = await RawClient.connect(running.port, memoryTransport);
  await raw.write(frame(QUERY, 1n));
  assert.equal(str((await raw.readFrame()).payload), "after");
  const reasons = outcomes.map((e) => e instanceof ConversationError ? e.reason : String(e));
  assert.deepEqual(reasons, ["concurrent", "timeout"]);
  await raw.write(frame(PING, 2n));
  assert.equal(str((await raw.readFrame()).payload), "pong");
  const error = await late.promise;
  assert.ok(error instanceof ConversationError && error.reason === "not-in-command");
});

test("a drain waits for the command in flight, which still receives its frames", async () => {
  const asked = signal();
  const app = new WireframeApp()
    .logger(captureLogger().logger)
    .route(QUERY, async function* (_request, ctx) {
      yield { id: FILE_REQUEST, payload: new Uint8Array(0) };
      asked.resolve();
      const last = await ctx.next();
      yield { id: OK, payload: last.payload };
    });
  const running = await serve(app, { transport: memoryTransport });
  await using raw = await RawClient.connect(running.port, memoryTransport);
  await raw.write(frame(QUERY, 1n));
  await raw.readFrame("the file request");
  await asked.promise;
  const stopped = running.server.shutdown({ timeoutMs: 10_000 });
  await raw.write(frame(DATA, 2n, text("last")));
  const ok = await raw.readFrame("the OK after shutdown began");
  assert.deepEqual([ok.id, str(ok.payload)], [OK, "last"]);
  assert.equal((await raw.readEnd()).how, "eof", "then a clean FIN");
  await raw.answerFin();
  await stopped;
});

for (const [name, transport] of transports) {
  test(`${name}: the greeting is the first frame on the wire, before any request is read`, async () => {
    const app = new WireframeApp<{ salt: string }>()
      .logger(captureLogger().logger)
      .onConnectionSetup(() => ({ salt: "s4lt" }))
      .withProtocol({
        greeting: (ctx) => [
          { id: 10, payload: text(`hello ${ctx.connectionId}`) },
          text(ctx.state.salt),
        ],
      })
      .route(PING, () => text("pong"));
    await using running = await serve(app, { transport });
    await using raw = await RawClient.connect(running.port, transport);
    const hello = await raw.readFrame("the greeting");
    const salt = await raw.readFrame("the greeting's second frame");
    assert.deepEqual([hello.id, hello.correlationId, str(hello.payload)], [
      10,
      undefined,
      "hello 1",
    ]);
    assert.deepEqual([salt.id, salt.correlationId, str(salt.payload)], [0, undefined, "s4lt"]);
    await raw.write(frame(PING, 1n));
    assert.equal(str((await raw.readFrame()).payload), "pong");
  });
}

for (const [name, transport] of transports) {
  test(`${name}: pushes made by setup code wait for the greeting, which still goes first`, async () => {
    const app = new WireframeApp()
      .logger(captureLogger().logger)
      .onConnectionSetup(async (info) => {
        await info.push.push({ id: 20, payload: text("from setup, high") }, { priority: "high" });
        await info.push.push({ id: 21, payload: text("from setup, low") });
      })
      .withProtocol({
        // A greeting that takes a while (say, it loads a server key): the pushes are queued by then.
        greeting: async () => {
          await new Promise((resolve) => setTimeout(resolve, 0));
          return { id: 10, payload: text("hello") };
        },
      });
    await using running = await serve(app, { transport });
    await using raw = await RawClient.connect(running.port, transport);
    const frames = [await raw.readFrame(), await raw.readFrame(), await raw.readFrame()];
    assert.deepEqual(frames.map((f) => [f.id, str(f.payload)]), [
      [10, "hello"],
      [20, "from setup, high"],
      [21, "from setup, low"],
    ]);
  });
}

test("a greeting that throws ends the connection, logged and counted, and nothing is read", async () => {
  const { logger, records } = captureLogger();
  let pinged = false;
  const app = new WireframeApp()
    .logger(logger)
    .withProtocol({
      greeting: () => {
        throw new Error("no greeting today");
      },
    })
    .route(PING, () => void (pinged = true));
  await using running = await serve(app, { transport: memoryTransport });
  await using raw = await RawClient.connect(running.port, memoryTransport);
  await raw.write(frame(PING, 1n)).catch(() => {});
  const { how } = await raw.readEnd();
  assert.ok(how === "eof" || how === "error");
  assert.equal(pinged, false);
  assert.ok(records.some((r) => r.level === "error" && r.message === "connection failed"));
  assert.equal(running.server.stats().connectionErrors, 1);
});
