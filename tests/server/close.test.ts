/** `ctx.close()`: the server ends a connection gracefully, from a handler or from elsewhere. */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Context } from "../../src/app/context.ts";
import { memoryTransport } from "../../src/transport/memory.ts";
import { concat, frame, quietApp, RawClient, serve, signal, str, text } from "../e2e/_helpers.ts";

const QUIT = 1, PING = 2, UPLOAD = 3, PUSHED = 9;

test("a handler's close(): its reply goes out, pipelined requests after it are not served, then EOF", async () => {
  const app = quietApp()
    .route(QUIT, (_request, ctx) => {
      ctx.close();
      return text("bye");
    })
    .route(PING, () => text("pong"));
  await using running = await serve(app, { transport: memoryTransport });
  await using raw = await RawClient.connect(running.port, memoryTransport);
  await raw.write(concat(frame(PING, 1n), frame(QUIT, 2n), frame(PING, 3n)));
  assert.equal(str((await raw.readFrame()).payload), "pong");
  const bye = await raw.readFrame();
  assert.deepEqual([bye.correlationId, str(bye.payload)], [2n, "bye"]);
  const { how, rest } = await raw.readEnd();
  assert.equal(how, "eof");
  assert.equal(rest.length, 0, "the PING after QUIT was not served");
  const stats = running.server.stats();
  assert.equal(stats.protocolViolations + stats.handlerErrors + stats.timeouts, 0, "not a fault");
});

test("close() from an async handler lets the rest of its response stream out first", async () => {
  const app = quietApp().route(QUIT, async function* (_request, ctx) {
    ctx.close();
    ctx.close(); // a second call does nothing
    await Promise.resolve();
    yield text("one");
    yield text("two");
  });
  await using running = await serve(app, { transport: memoryTransport });
  await using raw = await RawClient.connect(running.port, memoryTransport);
  await raw.write(frame(QUIT, 1n));
  assert.deepEqual(
    [str((await raw.readFrame()).payload), str((await raw.readFrame()).payload)],
    ["one", "two"],
  );
  assert.equal((await raw.readEnd()).how, "eof");
});

test("close() mid-conversation: the conversation still receives its frames, then the connection ends", async () => {
  const app = quietApp().route(UPLOAD, async (_request, ctx) => {
    ctx.close();
    let bytes = 0;
    for await (const part of ctx.receive()) {
      if (part.payload.length === 0) break;
      bytes += part.payload.length;
    }
    return text(`${bytes} bytes`);
  });
  await using running = await serve(app, { transport: memoryTransport });
  await using raw = await RawClient.connect(running.port, memoryTransport);
  await raw.write(
    concat(frame(UPLOAD, 1n), frame(4, 0n, text("abc")), frame(4, 0n, text("de")), frame(4, 0n)),
  );
  assert.equal(str((await raw.readFrame()).payload), "5 bytes");
  assert.equal((await raw.readEnd()).how, "eof");
});

test("close() from another connection (a session taken over): its queued push is delivered first", async () => {
  const contexts = new Map<string, Context>();
  const taken = signal();
  const app = quietApp()
    .route(PING, (request, ctx) => {
      const name = str(request.payload);
      contexts.set(name, ctx);
      return text(`hello ${name}`);
    })
    .route(QUIT, async (request) => {
      const old = contexts.get(str(request.payload))!;
      await old.push.push({ id: PUSHED, payload: text("taken over") });
      old.close();
      old.signal.addEventListener("abort", () => taken.resolve());
      await taken.promise;
      return text("closed it");
    });
  await using running = await serve(app, { transport: memoryTransport });
  await using first = await RawClient.connect(running.port, memoryTransport);
  await first.write(frame(PING, 1n, text("a")));
  assert.equal(str((await first.readFrame()).payload), "hello a");
  await using second = await RawClient.connect(running.port, memoryTransport);
  await second.write(frame(QUIT, 1n, text("a")));
  const pushed = await first.readFrame();
  assert.deepEqual([pushed.id, str(pushed.payload)], [PUSHED, "taken over"]);
  assert.equal((await first.readEnd()).how, "eof", "the old connection got our FIN");
  await first.close(); // our EOF ends the server's lingering close
  assert.equal(str((await second.readFrame()).payload), "closed it");
});

test("close() in the setup hook: the greeting still goes first, then EOF without reading a request", async () => {
  const app = quietApp<number>()
    .onConnectionSetup((info) => {
      info.close(); // e.g. a banned address
      return 1;
    })
    .withProtocol({ greeting: () => text("hi") })
    .route(PING, () => text("pong"));
  await using running = await serve(app, { transport: memoryTransport });
  await using raw = await RawClient.connect(running.port, memoryTransport);
  await raw.write(frame(PING, 1n));
  assert.equal(str((await raw.readFrame()).payload), "hi");
  const { how, rest } = await raw.readEnd();
  assert.equal(how, "eof");
  assert.equal(rest.length, 0, "the PING was not served");
});
