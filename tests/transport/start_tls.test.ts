/**
 * startTls(): a live connection of the running runtime's TCP transport (and
 * of the memory transport) upgraded to TLS in place, as server and as
 * client, with `openssl s_client -starttls smtp` as the client nobody here
 * wrote, and with bytes of the handshake already read (`buffered`).
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { TlsError } from "../../src/transport/errors.ts";
import { memoryPair } from "../../src/transport/memory.ts";
import { runtimeTransport } from "../../src/transport/runtime.ts";
import { startTls } from "../../src/transport/start_tls.ts";
import type { Connection, Listener } from "../../src/transport/types.ts";
import { makeTestPki } from "../_tls/certs.ts";
import { readAll } from "./_util.ts";

const runtime = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";
const tcp = await runtimeTransport();
const pki = makeTestPki();
after(() => pki.remove());
const identity = { role: "server", cert: pki.cert, key: pki.key } as const;
const text = new TextEncoder();

/** Reads CRLF lines from a connection, keeping what follows the last one. */
class Lines {
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #rest = new Uint8Array(0);
  constructor(conn: Connection) {
    this.#reader = conn.readable.getReader();
  }
  async next(): Promise<string | undefined> {
    for (;;) {
      const end = this.#rest.findIndex((b, i) => b === 10 && this.#rest[i - 1] === 13);
      if (end >= 0) {
        const line = new TextDecoder().decode(this.#rest.subarray(0, end - 1));
        this.#rest = this.#rest.slice(end + 1);
        return line;
      }
      const { value, done } = await this.#reader.read();
      if (done) return undefined;
      const joined = new Uint8Array(this.#rest.length + value.length);
      joined.set(this.#rest);
      joined.set(value, this.#rest.length);
      this.#rest = joined;
    }
  }
  /** Give the stream back: what was read past the last line, then nothing more is read. */
  release(): Uint8Array {
    this.#reader.releaseLock();
    return this.#rest;
  }
}

async function say(conn: Connection, ...lines: string[]): Promise<void> {
  const writer = conn.writable.getWriter();
  await writer.write(text.encode(lines.map((l) => `${l}\r\n`).join("")));
  writer.releaseLock();
}

/**
 * A tiny SMTP-like server: 220 greeting, EHLO advertises STARTTLS, STARTTLS
 * answers 220 and upgrades; after that EHLO says "over tls" and QUIT ends.
 */
async function serveSmtp(conn: Connection): Promise<void> {
  let lines = new Lines(conn);
  let current = conn;
  let secure = false;
  await say(current, "220 test ESMTP");
  for (let line = await lines.next(); line !== undefined; line = await lines.next()) {
    const verb = line.split(" ")[0]!.toUpperCase();
    if (verb === "EHLO") {
      await say(
        current,
        secure ? "250 hello over tls" : "250-hello",
        ...secure ? [] : ["250 STARTTLS"],
      );
    } else if (verb === "STARTTLS" && !secure) {
      await say(current, "220 go ahead");
      current = await startTls(current, { ...identity, buffered: lines.release() });
      lines = new Lines(current);
      secure = true;
    } else if (verb === "QUIT") {
      await say(current, "221 bye");
      const writer = current.writable.getWriter();
      await writer.close();
      break;
    } else {
      await say(current, "500 what");
    }
  }
  await readAll(current.readable).catch(() => {});
  current.close();
}

async function listenSmtp(): Promise<{ listener: Listener; served: Promise<void[]> }> {
  const listener = await tcp.listen({ port: 0 });
  const served: Promise<void>[] = [];
  const loop = (async () => {
    for await (const conn of listener) served.push(serveSmtp(conn).catch(() => conn.close()));
  })();
  return { listener, served: loop.then(() => Promise.all(served)) };
}

test(`${runtime} startTls: openssl s_client -starttls smtp upgrades a live connection and talks over TLS`, async () => {
  const { listener, served } = await listenSmtp();
  const child = spawn("openssl", [
    "s_client",
    "-starttls",
    "smtp",
    "-connect",
    `127.0.0.1:${listener.addr.port}`,
    "-servername",
    "localhost",
    "-CAfile",
    pki.caFile,
    "-verify_return_error",
    "-verify_hostname",
    "localhost",
    "-brief",
    "-crlf",
  ]);
  let stdout = "";
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
    if (/^221 /m.test(stdout)) child.stdin.end();
  });
  const exited = new Promise<number | null>((resolve) => child.once("close", resolve));
  // s_client speaks first after the handshake only when we do: send once it says it is verified.
  await new Promise<void>((resolve) => {
    const check = () => /Verification: OK/.test(stderr) && resolve();
    child.stderr.on("data", check);
  });
  child.stdin.write("EHLO again\nQUIT\n");
  assert.equal(await exited, 0, stderr);
  assert.match(stdout, /^250 hello over tls\r?$/m, "EHLO after the upgrade went over TLS");
  assert.match(stdout, /^221 bye\r?$/m);
  await listener.close();
  await served;
});

test(`${runtime} startTls: our client upgrades too, and a handshake that arrived with the request is kept`, async () => {
  const { listener, served } = await listenSmtp();
  const conn = await tcp.connect({ port: listener.addr.port });
  const lines = new Lines(conn);
  assert.equal(await lines.next(), "220 test ESMTP");
  // STARTTLS and, without waiting for the 220, the ClientHello: the server has read the
  // start of the handshake with the command, and must hand it to TLS (`buffered`).
  await say(conn, "STARTTLS");
  const secure = await startTls(new Pipelined(conn, lines), {
    role: "client",
    ca: pki.ca,
    serverName: "localhost",
  });
  const secureLines = new Lines(secure);
  await say(secure, "EHLO client", "QUIT");
  assert.equal(await secureLines.next(), "250 hello over tls");
  assert.equal(await secureLines.next(), "221 bye");
  secure.close();
  await listener.close();
  await served;
});

test(`${runtime} startTls: a client that does not trust the certificate gets TlsError, on any transport`, async () => {
  const [client, server] = memoryPair();
  const serving = startTls(server, identity).catch((error) => error);
  await assert.rejects(startTls(client, { role: "client", ca: pki.otherCa }), TlsError);
  assert.ok(await serving instanceof TlsError, "the server side fails too");
});

test(`${runtime} startTls: over the memory transport, bytes go both ways; the peer's close_notify ends the readable`, async () => {
  const [client, server] = memoryPair();
  const [secureServer, secureClient] = await Promise.all([
    startTls(server, identity),
    startTls(client, { role: "client", ca: [pki.ca], serverName: "localhost" }),
  ]);
  const serverLines = new Lines(secureServer);
  const clientLines = new Lines(secureClient);
  await say(secureClient, "ping over tls over memory");
  assert.equal(await serverLines.next(), "ping over tls over memory");
  await say(secureServer, "pong");
  assert.equal(await clientLines.next(), "pong");
  if (runtime === "node") {
    // Half-close survives the upgrade on Node only: Deno's and Bun's node:tls end the whole
    // TLS socket at the peer's close_notify (docs/transports.md).
    await secureClient.writable.getWriter().close();
    assert.equal(await serverLines.next(), undefined, "close_notify: the server's readable ends");
    await say(secureServer, "still answering");
    assert.equal(await clientLines.next(), "still answering");
  } else {
    await secureClient.writable.getWriter().close();
    assert.equal(await serverLines.next(), undefined, "close_notify: the server's readable ends");
  }
  secureServer.close();
  secureClient.close();
  await Promise.all([secureClient.closed, secureServer.closed]);
});

/**
 * The client's connection seen through its line reader: what the reader
 * holds past the greeting first (nothing here), then the socket; the 220
 * that answers STARTTLS is read, not handed to TLS.
 */
class Pipelined implements Connection {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  readonly localAddr;
  readonly remoteAddr;
  readonly closed;
  readonly #conn: Connection;
  constructor(conn: Connection, lines: Lines) {
    this.#conn = conn;
    this.localAddr = conn.localAddr;
    this.remoteAddr = conn.remoteAddr;
    this.closed = conn.closed;
    this.writable = conn.writable;
    let answered = false;
    this.readable = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (!answered) { // the server's "220 go ahead", in plain text, before its handshake
          answered = true;
          assert.equal(await lines.next(), "220 go ahead");
          const rest = lines.release();
          if (rest.length > 0) return controller.enqueue(rest);
        }
        const reader = conn.readable.getReader();
        const { value, done } = await reader.read();
        reader.releaseLock();
        if (done) controller.close();
        else controller.enqueue(value);
      },
    });
  }
  close(): void {
    this.#conn.close();
  }
}
