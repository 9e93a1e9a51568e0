/** Real loopback sockets: misbehaving peers end only their own connection. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { WireframeClient } from "../../src/client/client.ts";
import { WireframeError } from "../../src/error.ts";
import { COUNT, ECHO, echoApp } from "../../examples/echo_server.ts";
import {
  captureLogger,
  concat,
  frame,
  RawClient,
  rawFrame,
  readU32,
  reservedFlagsBody,
  serve,
  str,
  text,
  u32,
  waitFor,
} from "./_helpers.ts";

const app = () => echoApp().logger(captureLogger().logger);

test("clients that reset mid-frame, 20 times over, leave the server healthy", async () => {
  await using running = await serve(app());
  const partial = frame(ECHO, 1n, new Uint8Array(100)).subarray(0, 30);
  for (let i = 0; i < 20; i++) {
    const raw = await RawClient.connect(running.port);
    await raw.write(i % 2 === 0 ? partial : partial.subarray(0, 2)); // mid-body or mid-header
    raw.close();
    await raw[Symbol.asyncDispose]();
  }
  await waitFor(
    () => running.server.stats().connectionsAccepted === 20,
    "the server to accept all 20",
  );
  await waitFor(() => running.server.stats().connectionsActive === 0, "all 20 to be cleaned up");

  const client = await WireframeClient.connect({ port: running.port });
  try {
    assert.equal(str((await client.request(ECHO, text("alive"))).payload), "alive");
  } finally {
    await client.close();
  }
  assert.equal(running.server.stats().connectionsAccepted, 21);
});

/** Start a long stream on a healthy client, run `offend`, and check the stream was not disturbed. */
async function healthyDuring(port: number, offend: () => Promise<void>): Promise<void> {
  const client = await WireframeClient.connect({ port });
  try {
    const n = 2_000;
    const stream = client.stream(COUNT, u32(n), { isEnd: (f) => readU32(f.payload) === n - 1 })[
      Symbol.asyncIterator
    ]();
    assert.equal(readU32((await stream.next()).value!.payload), 0, "stream under way");
    await offend();
    let expected = 1;
    for (let step = await stream.next(); !step.done; step = await stream.next()) {
      assert.equal(readU32(step.value.payload), expected++);
    }
    assert.equal(expected, n);
    assert.equal(str((await client.request(ECHO, text("still here"))).payload), "still here");
  } finally {
    await client.close();
  }
}

test("an oversize frame closes only its connection, before any of its body is sent", async () => {
  await using running = await serve(app());
  await healthyDuring(running.port, async () => {
    await using offender = await RawClient.connect(running.port);
    await offender.write(frame(ECHO, 1n, text("ok")));
    assert.equal(str((await offender.readFrame()).payload), "ok");
    await offender.write(u32(1024 * 1024 + 1)); // the declared length; the body never comes
    await offender.readEnd("the server to close the offender");
  });
  await waitFor(() => running.server.stats().connectionErrors === 1, "the error counted");
});

test("a malformed envelope closes only its connection", async () => {
  await using running = await serve(app());
  await healthyDuring(running.port, async () => {
    await using offender = await RawClient.connect(running.port);
    await offender.write(concat(frame(ECHO, 1n, text("ok")), rawFrame(reservedFlagsBody())));
    assert.equal(str((await offender.readFrame()).payload), "ok");
    await offender.readEnd("the server to close the offender");
  });
  await waitFor(() => running.server.stats().malformedFrames === 1, "the frame counted");
  assert.equal(running.server.stats().connectionErrors, 1);
});

test("a protocol error in one stream does not end the connection (echo id 2 with a bad count)", async () => {
  await using running = await serve(app());
  const client = await WireframeClient.connect({ port: running.port });
  try {
    await client.send(COUNT, text("not a u32"), { correlationId: 1000n });
    assert.equal(str((await client.request(ECHO, text("fine"))).payload), "fine");
    await waitFor(() => running.server.stats().handlerErrors === 1, "the fault counted");
  } finally {
    await client.close();
  }
});

test("a large response is delivered in full before a malformed frame after it closes", async () => {
  await using running = await serve(app());
  await using raw = await RawClient.connect(running.port);
  const payload = new Uint8Array(1024 * 1024 - 64).map((_, i) => i & 0xff);
  // Written together: the echo's reply is still being flushed when the violation is read.
  // Bytes after the violation stay unread: closing on them makes the kernel send a reset.
  const junk = new Uint8Array(256 * 1024).fill(7);
  await raw.write(concat(frame(ECHO, 1n, payload), rawFrame(reservedFlagsBody()), junk));
  const reply = await raw.readFrame("the whole echo reply");
  assert.equal(reply.payload.length, payload.length);
  assert.deepEqual(reply.payload, payload);
  await raw.closeWrite();
  await raw.readEnd("the close after the violation");
});

test("WireframeError.io from a stream ends the connection after the frames already produced", async () => {
  const chunk = new Uint8Array(256 * 1024).map((_, i) => (i * 13) & 0xff);
  const failing = echoApp().logger(captureLogger().logger).route(9, async function* () {
    for (let i = 0; i < 8; i++) yield chunk;
    throw WireframeError.io(new Error("the backing store went away"));
  });
  await using running = await serve(failing);
  await using raw = await RawClient.connect(running.port);
  // A request pipelined behind it stays unread: closing on it makes the kernel send a reset.
  await raw.write(concat(frame(9, 1n), frame(ECHO, 2n, new Uint8Array(768 * 1024))));
  for (let i = 0; i < 8; i++) {
    const f = await raw.readFrame(`frame ${i} of 8`);
    assert.equal(f.payload.length, chunk.length);
  }
  await raw.answerFin();
  await raw.readEnd("the connection to end after the I/O fault");
});
