/**
 * WireframeProtocol hooks through a real server (memory transport): the
 * order and count of beforeSend, onCommandEnd, handleError and
 * streamEndFrame for every kind of response, pushes included.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { WireframeApp } from "../../src/app/app.ts";
import type { WireframeProtocol } from "../../src/app/protocol.ts";
import type { Envelope } from "../../src/codec/envelope.ts";
import { WireframeError } from "../../src/error.ts";
import { PushHandle } from "../../src/push/push_handle.ts";
import { Response } from "../../src/response.ts";
import { captureLogger, concat, deadline, frame, readU32, signal, u32 } from "../e2e/_helpers.ts";
import { connectRaw, serveMemory } from "../server/_memory.ts";

const PUSH = 70;
const TERMINATOR = 99;
const MARKER = 1;

/** "id:n" for a frame whose payload starts with a u32 (the rewrite appends a byte). */
const show = (f: Envelope) => `${f.id}:${readU32(f.payload.subarray(0, 4))}`;

function explain(error: unknown): string {
  if (error instanceof WireframeError) return `${error.kind} ${String(error.error)}`;
  return error instanceof Error ? error.message : String(error);
}

/** An app whose hooks and handlers append to `events`. */
function recordingApp(events: string[]) {
  const protocol: WireframeProtocol = {
    onConnectionSetup: (push, info) => {
      events.push(`setup ${push instanceof PushHandle && push === info.push}`);
    },
    beforeSend: (f) => {
      events.push(`send ${show(f)}`);
      return { ...f, payload: concat(f.payload, Uint8Array.of(0xee)) }; // rewritten
    },
    onCommandEnd: () => void events.push("end"),
    handleError: (error) => void events.push(`error ${explain(error)}`),
    streamEndFrame: () => {
      events.push("terminator");
      return { id: TERMINATOR, payload: u32(0) };
    },
  };
  const app = new WireframeApp()
    .logger(captureLogger().logger)
    .withProtocol(protocol)
    .wrap((req, _ctx, next) => {
      events.push(`req ${req.id}`);
      return next();
    })
    .route(MARKER, () => u32(1))
    .route(2, () => Response.vec([u32(1), u32(2)]))
    .route(3, async function* () {
      yield u32(1);
      yield u32(2);
    })
    .route(4, () => Response.empty())
    .route(5, () => {
      throw new Error("boom");
    })
    .route(6, async function* () {
      yield u32(1);
      throw WireframeError.protocol("bad");
    })
    .route(7, (_req, ctx) => {
      assert.equal(ctx.push.tryPush({ id: PUSH, payload: u32(7) }), "queued");
      return u32(1);
    })
    .route(8, () => Promise.resolve(u32(1)))
    .route(9, () => Promise.reject(new Error("async boom")));
  return app;
}

test("hook order: beforeSend sees every frame, onCommandEnd once per request and never for pushes", async () => {
  const events: string[] = [];
  await using running = await serveMemory(recordingApp(events));
  await using raw = await connectRaw(running.port);
  const ids = [MARKER, 2, 3, 4, 5, 6, 7, 8, 9, MARKER];
  await raw.write(concat(...ids.map((id, i) => frame(id, BigInt(i + 1)))));
  const wire: string[] = [];
  while (true) {
    const f = await raw.readFrame();
    assert.equal(f.payload.at(-1), 0xee, "every frame on the wire went through beforeSend");
    wire.push(`${show(f)}${f.correlationId === undefined ? "" : `#${f.correlationId}`}`);
    if (f.correlationId === BigInt(ids.length)) break;
  }
  assert.deepEqual(events, [
    "setup true",
    ...["req 1", "send 1:1", "end"],
    ...["req 2", "send 2:1", "send 2:2", "end"],
    ...["req 3", "send 3:1", "send 3:2", "terminator", "send 99:0", "end"],
    ...["req 4", "end"],
    ...["req 5", "error boom", "end"],
    ...["req 6", "send 6:1", "error protocol bad", "end"],
    ...["req 7", "send 70:7", "send 7:1", "end"],
    ...["req 8", "send 8:1", "end"],
    ...["req 9", "error async boom", "end"],
    ...["req 1", "send 1:1", "end"],
  ]);
  assert.deepEqual(wire, [
    "1:1#1",
    "2:1#2",
    "2:2#2",
    "3:1#3",
    "3:2#3",
    "99:0#3", // the terminator inherits the request's correlation id
    "6:1#6",
    "70:7", // the push: no correlation id
    "7:1#7",
    "8:1#8",
    "1:1#10",
  ]);
  assert.equal(running.server.stats().connectionErrors, 0, "the connection carried on");
});

test("a client leaving mid-stream cancels it: no terminator, onCommandEnd still once", async () => {
  const events: string[] = [];
  const started = signal();
  const cancelled = signal();
  const app = new WireframeApp()
    .logger(captureLogger().logger)
    .withProtocol({
      onCommandEnd: () => void events.push("end"),
      streamEndFrame: () => {
        events.push("terminator");
        return { payload: u32(0) };
      },
      handleError: (error) => void events.push(`error ${explain(error)}`),
    })
    .route(3, async function* (_req, ctx) {
      try {
        yield u32(1);
        started.resolve();
        await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve));
        yield u32(2);
      } finally {
        cancelled.resolve();
      }
    });
  await using running = await serveMemory(app);
  const raw = await connectRaw(running.port);
  await raw.write(frame(3, 1n));
  await raw.readFrame();
  await deadline(started.promise, "stream started");
  raw.close();
  await deadline(cancelled.promise, "the stream's finally ran");
  await deadline(running.server.shutdown(), "shutdown");
  assert.deepEqual(events, ["end"]);
  await raw[Symbol.asyncDispose]();
});

test("a client leaving while an async handler is pending: onCommandEnd still runs once", async () => {
  let ends = 0;
  const started = signal();
  const app = new WireframeApp()
    .logger(captureLogger().logger)
    .withProtocol({ onCommandEnd: () => void ends++ })
    .route(1, () => {
      started.resolve();
      return new Promise<Uint8Array>(() => {}); // never settles
    });
  await using running = await serveMemory(app);
  const raw = await connectRaw(running.port);
  await raw.write(frame(1, 1n));
  await deadline(started.promise, "handler started");
  raw.close();
  await deadline(running.server.shutdown(), "shutdown");
  assert.equal(ends, 1);
  await raw[Symbol.asyncDispose]();
});

test("handleError gets WireframeError.protocol from a stream; the next request is served", async () => {
  const errors: unknown[] = [];
  const app = new WireframeApp()
    .logger(captureLogger().logger)
    .withProtocol({ handleError: (error) => void errors.push(error) })
    .route(1, () => u32(5))
    .route(6, async function* () {
      yield u32(1);
      throw WireframeError.protocol({ code: 42 });
    });
  await using running = await serveMemory(app);
  await using raw = await connectRaw(running.port);
  await raw.write(concat(frame(6, 1n), frame(1, 2n)));
  const frames = [await raw.readFrame(), await raw.readFrame()];
  assert.deepEqual(frames.map((f) => [f.id, f.correlationId]), [[6, 1n], [1, 2n]]);
  assert.equal(errors.length, 1);
  const error = errors[0];
  assert.ok(error instanceof WireframeError);
  assert.equal(error.kind, "protocol");
  assert.deepEqual(error.error, { code: 42 });
  assert.equal(running.server.stats().connectionErrors, 0);
});

test("throwing hooks are logged and counted like handler faults; the connection carries on", async () => {
  const { logger, records } = captureLogger();
  let failEnd = true;
  const app = new WireframeApp()
    .logger(logger, { throttleMs: 0 }) // counts every record
    .withProtocol({
      onCommandEnd: () => {
        if (failEnd) throw new Error("end hook");
      },
      handleError: () => {
        throw new Error("error hook");
      },
      beforeSend: (f) => {
        if (f.id === 4) throw new Error("send hook");
        return f;
      },
      streamEndFrame: () => {
        throw new Error("terminator hook");
      },
    })
    .route(1, () => u32(1))
    .route(2, () => {
      throw new Error("handler");
    })
    .route(3, async function* () {
      yield u32(3);
    })
    .route(
      4,
      () => Response.vec([{ id: 40, payload: u32(0) }, u32(4), { id: 41, payload: u32(1) }]),
    )
    .route(5, (_req, ctx) => {
      ctx.push.tryPush({ id: 4, payload: u32(0) }); // beforeSend throws: the push is dropped
      return u32(5);
    });
  await using running = await serveMemory(app);
  await using raw = await connectRaw(running.port);
  await raw.write(concat(frame(1, 1n), frame(2, 2n), frame(3, 3n), frame(4, 4n), frame(5, 5n)));
  const frames = [await raw.readFrame(), await raw.readFrame(), await raw.readFrame()];
  const rest = [await raw.readFrame()];
  assert.deepEqual(
    [...frames, ...rest].map((f) => [f.id, f.correlationId]),
    [[1, 1n], [3, 3n], [40, 4n], [5, 5n]],
    "a vec stops at the frame beforeSend refused",
  );
  failEnd = false;
  await raw.write(frame(1, 6n));
  assert.equal((await raw.readFrame()).correlationId, 6n, "the connection carried on");
  const errors = records.filter((r) => r.level === "error").map((r) => r.message);
  assert.deepEqual(errors, [
    "protocol hook onCommandEnd failed", // request 1
    "protocol hook handleError failed", // request 2: the handler threw, then handleError threw
    "protocol hook onCommandEnd failed",
    "protocol hook handleError failed", // request 3: streamEndFrame threw
    "protocol hook onCommandEnd failed",
    "protocol hook handleError failed", // request 4: beforeSend threw on its second frame
    "protocol hook onCommandEnd failed",
    "push frame dropped: it could not be sent", // request 5: beforeSend threw on the push
    "protocol hook onCommandEnd failed",
  ]);
  // 5 failed onCommandEnd + 3 failed handleError + the 3 request faults they handled
  // (handler, streamEndFrame, beforeSend on a response) + 1 push dropped by beforeSend.
  assert.equal(running.server.stats().handlerErrors, 5 + 3 + 3 + 1);
  assert.equal(running.server.stats().connectionErrors, 0);
});

test("onConnectionSetup gets the connection's PushHandle and may push before any request", async () => {
  let seen: PushHandle | undefined;
  const app = new WireframeApp()
    .logger(captureLogger().logger)
    .withProtocol({
      onConnectionSetup: async (push, info) => {
        seen = push;
        assert.equal(push.connectionId, info.connectionId);
        await push.push({ id: PUSH, payload: u32(1) });
      },
    })
    .route(1, (_req, ctx) => {
      assert.equal(ctx.push, seen, "handlers see the same handle");
      return u32(2);
    });
  await using running = await serveMemory(app);
  await using raw = await connectRaw(running.port);
  const hello = await raw.readFrame("the push from setup");
  assert.deepEqual([hello.id, hello.correlationId, readU32(hello.payload)], [PUSH, undefined, 1]);
  await raw.write(frame(1, 1n));
  assert.equal(readU32((await raw.readFrame()).payload), 2);
  assert.ok(seen instanceof PushHandle);
});
