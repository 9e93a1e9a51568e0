/**
 * Fairness under load: one connection must never starve the others, the
 * accept loop, timers or shutdown. Every wait is on an event; on the code
 * before the fix these tests hang on Bun (the hang guard fails them).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { WireframeClient } from "../../src/client/client.ts";
import { ConnectionLostError } from "../../src/client/errors.ts";
import type { Transport } from "../../src/transport/types.ts";
import { memoryTransport } from "../../src/transport/memory.ts";
import { runtimeTransport } from "../../src/transport/runtime.ts";
import { COUNT, ECHO, echoApp } from "../../examples/echo_server.ts";
import { captureLogger, deadline, readU32, serve, signal, u32 } from "./_helpers.ts";

const ENDLESS = u32(0xffff_ffff);

/** Read an endless count stream as fast as frames come, checking each is the next number. */
function drain(client: WireframeClient): { received: () => number; ended: Promise<unknown> } {
  let received = 0;
  const ended = (async () => {
    try {
      for await (const frame of client.stream(COUNT, ENDLESS)) {
        assert.equal(readU32(frame.payload), received, "frames arrive whole and in order");
        received++;
      }
      return undefined;
    } catch (error) {
      return error;
    }
  })();
  return { received: () => received, ended };
}

for (const [name, transport] of [["tcp", undefined], ["memory", memoryTransport]] as const) {
  const connect = async (port: number, via: Transport | undefined) =>
    await WireframeClient.connect({ port, ...(via ? { transport: via } : {}) });

  test(`${name}: while a client drains an endless stream, another's 100 echoes complete and shutdown ends the stream at a frame boundary`, async () => {
    const via = transport ?? await runtimeTransport();
    const running = await serve(echoApp().logger(captureLogger().logger), { transport: via });
    const streamer = await connect(running.port, via);
    const stream = drain(streamer);
    // A timer must fire while the stream runs: before the fix, on Bun, none ever did.
    await deadline(new Promise((resolve) => setTimeout(resolve, 0)), "a timer during the stream");
    const first = stream.received();
    const echo = await deadline(connect(running.port, via), "a fresh connection during the stream");
    for (let i = 0; i < 100; i++) {
      const reply = await deadline(echo.request(ECHO, u32(i)), `echo ${i} during the stream`);
      assert.equal(readU32(reply.payload), i);
    }
    // Over TCP each echo waits on real I/O, so the stream gets turns meanwhile. (In memory
    // the 100 echoes are one chain of microtasks, shorter than a slice: nothing to share.)
    if (transport === undefined) {
      assert.ok(
        stream.received() > first,
        `the stream kept flowing (${first} → ${stream.received()})`,
      );
    }
    await deadline(running.server.shutdown({ timeoutMs: 200 }), "shutdown with a stream in flight");
    const ending = await deadline(stream.ended, "the stream's end after shutdown");
    // A clean EOF: the client saw no partial frame (that would be the lost connection's cause).
    assert.ok(ending instanceof ConnectionLostError, `ended with ${ending}`);
    assert.equal(ending.cause, undefined, "the stream ended at a frame boundary with EOF");
    await echo.close();
    await streamer.close();
  });
}

test("64 connections echoing 512 KiB frames all make progress, none far ahead of the others", async () => {
  await using running = await serve(echoApp().logger(captureLogger().logger));
  const clients = await Promise.all(
    Array.from({ length: 64 }, () => WireframeClient.connect({ port: running.port })),
  );
  const payload = new Uint8Array(512 * 1024).fill(7);
  const roundTrips = clients.map(() => 0);
  const everyoneTwice = signal();
  let twice = 0;
  let stop = false;
  const loops = clients.map(async (client, i) => {
    while (!stop) {
      const reply = await client.request(ECHO, payload);
      assert.equal(reply.payload.length, payload.length);
      if (++roundTrips[i]! === 2 && ++twice === clients.length) everyoneTwice.resolve();
    }
  });
  await deadline(everyoneTwice.promise, "every connection's second round trip", 60_000);
  stop = true;
  await Promise.all(loops);
  // Unfair scheduling let one connection do 14× the median before the fix; with
  // fairness each gets its turn, so when the slowest has done 2 none has done 40.
  const most = Math.max(...roundTrips);
  assert.ok(most < 40, `one connection did ${most} round trips while another did 2`);
  await Promise.all(clients.map((client) => client.close()));
});
