/** WireframeClient failure modes against a scripted server (memory transport). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { WireframeClient } from "../../src/client/client.ts";
import { ConnectionLostError, CorrelationMismatchError } from "../../src/client/errors.ts";
import { ConfigError } from "../../src/error.ts";
import { memoryTransport } from "../../src/transport/memory.ts";
import { ConnectionRefusedError } from "../../src/transport/errors.ts";
import { deadline, frame, rawFrame, text } from "../e2e/_helpers.ts";
import { connectClient } from "../server/_memory.ts";
import { rawServer } from "./_raw_server.ts";

test("a reply with a correlation id nobody waits for rejects with CorrelationMismatchError", async () => {
  await using server = await rawServer();
  const client = await connectClient(server.port);
  try {
    const pending = client.request(1, text("q"));
    const peer = await server.accept();
    const request = await peer.readFrame();
    assert.equal(request.correlationId, 1n);
    await peer.write(frame(1, 42n, text("not yours")));
    await assert.rejects(pending, (error: unknown) => {
      assert.ok(error instanceof CorrelationMismatchError);
      assert.equal(error.expected, 1n);
      assert.equal(error.received, 42n);
      return true;
    });
  } finally {
    await client.close();
  }
});

test("a connection lost mid-request rejects the request and open streams with ConnectionLostError", async () => {
  await using server = await rawServer();
  const client = await connectClient(server.port);
  try {
    const request = client.request(1, text("q"));
    const stream = client.stream(2, text("s"))[Symbol.asyncIterator]();
    const streamed = stream.next();
    const peer = await server.accept();
    await peer.readFrame();
    await peer.readFrame();
    peer.close();
    await assert.rejects(request, ConnectionLostError);
    await assert.rejects(streamed, ConnectionLostError);
    await deadline(client.closed, "client.closed");
  } finally {
    await client.close();
  }
});

test("a request made after the connection was lost rejects instead of hanging", async () => {
  await using server = await rawServer();
  const client = await connectClient(server.port);
  try {
    const peer = await server.accept();
    peer.close();
    await deadline(client.closed, "client.closed");
    await assert.rejects(deadline(client.request(1, text("q")), "request"), ConnectionLostError);
    await assert.rejects(deadline(client.send(1, text("q")), "send"), ConnectionLostError);
    const stream = client.stream(1, text("s"))[Symbol.asyncIterator]();
    await assert.rejects(deadline(stream.next(), "stream"), ConnectionLostError);
  } finally {
    await client.close();
  }
});

test("a frame the client cannot decode ends the connection with ConnectionLostError", async () => {
  await using server = await rawServer();
  const client = await connectClient(server.port);
  try {
    const pending = client.request(1, text("q"));
    const peer = await server.accept();
    await peer.readFrame();
    await peer.write(rawFrame(Uint8Array.of(0, 0, 0))); // a 3-byte body: not an envelope
    await assert.rejects(pending, ConnectionLostError);
  } finally {
    await client.close();
  }
});

test("connect() to a port nobody listens on rejects with ConnectionRefusedError", async () => {
  await using server = await rawServer();
  const port = server.port;
  await server[Symbol.asyncDispose]();
  await assert.rejects(
    WireframeClient.connect({ port, transport: memoryTransport }),
    ConnectionRefusedError,
  );
});

test("invalid client options reject with a ConfigError naming the option", async () => {
  for (
    const [options, option] of [
      [{ port: -1 }, "port"],
      [{ port: 1, bufferSize: 0 }, "bufferSize"],
      [{ port: 1, closeTimeoutMs: -1 }, "closeTimeoutMs"],
    ] as const
  ) {
    await assert.rejects(
      WireframeClient.connect({ ...options, transport: memoryTransport }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.equal(error.option, option);
        return true;
      },
    );
  }
});
