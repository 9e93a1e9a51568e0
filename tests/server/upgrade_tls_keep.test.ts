/**
 * ctx.upgradeTls({ pipelined: "keep" }): the bytes behind the upgrade
 * request (a ClientHello a client sent without waiting, as MySQL clients
 * do) go to the handshake, whether they came in the request's chunk, split
 * over chunks or after a pause; "drop" (the default) still drops them; a
 * codec whose decoder cannot hand bytes back makes "keep" fail with a
 * ConfigError. The framing has a one-byte length, so a ClientHello behind
 * the request would parse as frames if the server decoded it.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { WireframeApp } from "../../src/app/app.ts";
import type { Serializer } from "../../src/codec/envelope.ts";
import { LengthDelimitedCodec } from "../../src/codec/length_delimited.ts";
import type { FrameCodec } from "../../src/codec/types.ts";
import { ConfigError } from "../../src/error.ts";
import { WireframeServer } from "../../src/server/server.ts";
import { memoryTransport } from "../../src/transport/memory.ts";
import { startTls } from "../../src/transport/start_tls.ts";
import type { Connection } from "../../src/transport/types.ts";
import { makeTestPki } from "../_tls/certs.ts";
import { captureLogger } from "../e2e/_helpers.ts";

const pki = makeTestPki();
after(() => pki.remove());

const KEEP = 1;
const DROP = 2;
const ECHO = 3;
const GO_AHEAD = Uint8Array.of(1, 0x80);
const REFUSED = Uint8Array.of(1, 0xee);

/** A frame is `length:u8 body`; the body's first byte is the message id, and the whole body is the payload. */
const serializer: Serializer = {
  decode: (body) => ({ id: body[0]!, payload: body }),
  encode: (envelope) => envelope.payload,
};

function upgradeApp(
  codec: FrameCodec = new LengthDelimitedCodec({
    lengthFieldLength: 1,
    maxFrameLength: 255,
  }),
) {
  return new WireframeApp()
    .logger(captureLogger().logger)
    .codec(codec)
    .serializer(serializer)
    .route(KEEP, async function* (_req, ctx) {
      try {
        yield GO_AHEAD.subarray(1);
        await ctx.upgradeTls({ pipelined: "keep" });
      } catch (error) {
        if (error instanceof ConfigError && error.option === "codec") yield REFUSED.subarray(1);
        else throw error;
      }
    })
    .route(DROP, async function* (_req, ctx) {
      yield GO_AHEAD.subarray(1);
      await ctx.upgradeTls();
    })
    .route(ECHO, (req) => req.payload);
}

async function listen(app: WireframeApp): Promise<{ server: WireframeServer; port: number }> {
  const server = new WireframeServer(app, { transport: memoryTransport });
  const { port } = await server.listen({ port: 0, startTls: { cert: pki.cert, key: pki.key } });
  return { server, port };
}

const frame = (id: number, text: string): Uint8Array => {
  const body = new TextEncoder().encode(text);
  return Uint8Array.of(body.length + 1, id, ...body);
};

/** Read exactly `n` bytes; what came past them is returned too. */
async function readBytes(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  n: number,
  held: Uint8Array = new Uint8Array(0),
): Promise<{ bytes: Uint8Array; rest: Uint8Array }> {
  let got = held;
  while (got.length < n) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the stream ended after ${got.length} of ${n} bytes`);
    got = Uint8Array.of(...got, ...value);
  }
  return { bytes: got.subarray(0, n), rest: got.subarray(n) };
}

type Arrival = "same chunk" | "split" | "after the go-ahead";

/**
 * The client's view: its first TLS write carries `request` in front (in one
 * chunk, or with the ClientHello split over two), and its first read skips
 * the server's plain-text go-ahead.
 */
class Pipelining implements Connection {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  readonly localAddr;
  readonly remoteAddr;
  readonly closed;
  readonly #conn: Connection;
  constructor(conn: Connection, request: Uint8Array | undefined, arrival: Arrival) {
    this.#conn = conn;
    this.localAddr = conn.localAddr;
    this.remoteAddr = conn.remoteAddr;
    this.closed = conn.closed;
    const reader = conn.readable.getReader();
    const writer = conn.writable.getWriter();
    let first = true;
    let skipped = false;
    this.writable = new WritableStream({
      async write(chunk) {
        if (first && request !== undefined) {
          first = false;
          if (arrival === "split") {
            await writer.write(Uint8Array.of(...request, ...chunk.subarray(0, 7)));
            await writer.write(chunk.slice(7));
          } else await writer.write(Uint8Array.of(...request, ...chunk));
          return;
        }
        await writer.write(chunk);
      },
      close: () => writer.close(),
    });
    this.readable = new ReadableStream({
      async pull(controller) {
        if (!skipped) {
          skipped = true;
          if (request !== undefined) {
            const { bytes, rest } = await readBytes(reader, GO_AHEAD.length);
            assert.deepEqual(bytes, GO_AHEAD);
            if (rest.length > 0) return controller.enqueue(rest);
          }
        }
        const { value, done } = await reader.read();
        if (done) controller.close();
        else controller.enqueue(value);
      },
    });
  }
  close(): void {
    this.#conn.close();
  }
}

async function echoOverTls(secure: Connection, text: string): Promise<string> {
  const writer = secure.writable.getWriter();
  await writer.write(frame(ECHO, text));
  writer.releaseLock();
  const reader = secure.readable.getReader();
  const { bytes, rest } = await readBytes(reader, 1);
  const { bytes: body } = await readBytes(reader, bytes[0]!, rest);
  reader.releaseLock();
  return new TextDecoder().decode(body.subarray(1));
}

for (const arrival of ["same chunk", "split", "after the go-ahead"] as const) {
  test(
    `upgradeTls keep: a ClientHello that arrives ${
      arrival === "after the go-ahead" ? arrival : `in the ${arrival}`
    } with the request is the start of the handshake`,
    async () => {
      const { server, port } = await listen(upgradeApp());
      try {
        const conn = await memoryTransport.connect({ port });
        let request: Uint8Array | undefined = frame(KEEP, "");
        if (arrival === "after the go-ahead") {
          const writer = conn.writable.getWriter();
          await writer.write(request);
          writer.releaseLock();
          const reader = conn.readable.getReader();
          assert.deepEqual((await readBytes(reader, GO_AHEAD.length)).bytes, GO_AHEAD);
          reader.releaseLock();
          request = undefined;
        }
        const secure = await startTls(new Pipelining(conn, request, arrival), {
          role: "client",
          ca: pki.ca,
          serverName: "localhost",
        });
        assert.equal(await echoOverTls(secure, "over tls"), "over tls");
        secure.close();
      } finally {
        await server.shutdown({ timeoutMs: 1_000 });
      }
    },
  );
}

test("upgradeTls drop (the default): a frame pipelined behind the request is never served", async () => {
  const { server, port } = await listen(upgradeApp());
  try {
    const conn = await memoryTransport.connect({ port });
    const writer = conn.writable.getWriter();
    await writer.write(Uint8Array.of(...frame(DROP, ""), ...frame(ECHO, "injected")));
    writer.releaseLock();
    const reader = conn.readable.getReader();
    assert.deepEqual((await readBytes(reader, GO_AHEAD.length)).bytes, GO_AHEAD);
    reader.releaseLock();
    const secure = await startTls(conn, { role: "client", ca: pki.ca, serverName: "localhost" });
    // The first answer over TLS is to the first echo sent over TLS.
    assert.equal(await echoOverTls(secure, "after"), "after");
    secure.close();
  } finally {
    await server.shutdown({ timeoutMs: 1_000 });
  }
});

test("upgradeTls keep with a codec whose decoder cannot hand bytes back rejects with a ConfigError", async () => {
  const inner = new LengthDelimitedCodec({ lengthFieldLength: 1, maxFrameLength: 255 });
  const opaque: FrameCodec = {
    maxFrameLength: inner.maxFrameLength,
    createDecoder() {
      const decoder = inner.createDecoder();
      return {
        decode: (chunk, emit) => decoder.decode(chunk, emit),
        finish: () => decoder.finish(),
        get buffered() {
          return decoder.buffered;
        },
      };
    },
    encodedLength: (f) => inner.encodedLength(f),
    encodeInto: (f, t, o) => inner.encodeInto(f, t, o),
    encode: (f) => inner.encode(f),
  };
  const { server, port } = await listen(upgradeApp(opaque));
  try {
    const conn = await memoryTransport.connect({ port });
    const writer = conn.writable.getWriter();
    await writer.write(frame(KEEP, ""));
    const reader = conn.readable.getReader();
    // The go-ahead went first; then the upgrade was refused, before any handshake.
    const answer = await readBytes(reader, GO_AHEAD.length + REFUSED.length);
    assert.deepEqual(answer.bytes, Uint8Array.of(...GO_AHEAD, ...REFUSED));
    // The connection is still plain and serving.
    await writer.write(frame(ECHO, "plain"));
    const { bytes } = await readBytes(reader, 7);
    assert.equal(new TextDecoder().decode(bytes.subarray(2)), "plain");
    conn.close();
  } finally {
    await server.shutdown({ timeoutMs: 1_000 });
  }
});
