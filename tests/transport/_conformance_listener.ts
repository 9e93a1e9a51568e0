/**
 * Listener and connect behaviour every Transport must have; registered by
 * `conformance()` in _conformance.ts.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ConfigError } from "../../src/error.ts";
import {
  AddressInUseError,
  ConnectionRefusedError,
  TransportError,
} from "../../src/transport/errors.ts";
import type { Connection, Transport } from "../../src/transport/types.ts";
import { acceptUntilData, pattern, readAll, writeAndClose } from "./_util.ts";

export function listenerConformance(name: string, transport: Transport, connections: number): void {
  test(`${name}: ${connections} concurrent connections each echo their own bytes`, async () => {
    const listener = await transport.listen({ port: 0 });
    const serving = (async () => {
      const echoes: Promise<void>[] = [];
      for await (const conn of listener) {
        echoes.push(conn.readable.pipeTo(conn.writable).then(() => conn.closed));
      }
      await Promise.all(echoes);
    })();
    serving.catch(() => {}); // awaited below
    const client = async (i: number): Promise<void> => {
      const conn = await transport.connect({ port: listener.addr.port });
      const data = pattern(i * 7919, 2048 + i, i);
      const [, echoed] = await Promise.all([writeAndClose(conn, data), readAll(conn.readable)]);
      assert.deepEqual(echoed, data, `connection ${i}`);
      await conn.closed;
    };
    try {
      await Promise.all(Array.from({ length: connections }, (_, i) => client(i)));
    } finally {
      await listener.close();
    }
    await serving;
  });

  test(`${name}: closing the listener ends iteration; accepted connections keep working`, async () => {
    const listener = await transport.listen({ port: 0 });
    const got: Connection[] = [];
    const { promise: first, resolve: gotFirst } = Promise.withResolvers<void>();
    const iterating = (async () => {
      for await (const conn of listener) {
        got.push(conn);
        gotFirst();
      }
    })();
    iterating.catch(() => {}); // awaited below
    const client = await transport.connect({ port: listener.addr.port });
    await first;
    await listener.close();
    await iterating; // ended by close(), not by an error
    await listener.close(); // idempotent
    await listener[Symbol.asyncDispose]();
    const server = got[0];
    assert.ok(server !== undefined);
    try {
      await writeAndClose(client, pattern(0, 100, 5));
      assert.deepEqual(await readAll(server.readable), pattern(0, 100, 5));
      await writeAndClose(server, pattern(0, 100, 6));
      assert.deepEqual(await readAll(client.readable), pattern(0, 100, 6));
    } finally {
      client.close();
      server.close();
    }
  });

  test(`${name}: connect to a port nobody listens on rejects with ConnectionRefusedError`, async () => {
    const listener = await transport.listen({ port: 0 });
    const port = listener.addr.port;
    await listener.close();
    await assert.rejects(transport.connect({ port }), (err: unknown) => {
      assert.ok(err instanceof ConnectionRefusedError);
      assert.equal(err.code, "ERR_CONNECTION_REFUSED");
      assert.ok(err instanceof TransportError);
      return true;
    });
  });

  test(`${name}: listening on a taken port rejects with AddressInUseError`, async () => {
    const listener = await transport.listen({ port: 0 });
    try {
      await assert.rejects(transport.listen({ port: listener.addr.port }), AddressInUseError);
    } finally {
      await listener.close();
    }
  });

  test(`${name}: invalid listen/connect options reject with ConfigError`, async () => {
    await assert.rejects(transport.listen({ port: -1 }), ConfigError);
    await assert.rejects(transport.listen({ port: 65536 }), ConfigError);
    await assert.rejects(transport.connect({ port: 0 }), ConfigError);
    await assert.rejects(transport.connect({ port: 80, hostname: "" }), ConfigError);
  });

  test(`${name}: a peer that left before being accepted does not stop the accept loop`, async () => {
    // Transport-neutral part: a client that connects and closes at once must
    // not end or break iteration; the next client is served.
    const listener = await transport.listen({ port: 0 });
    try {
      const early = await transport.connect({ port: listener.addr.port });
      early.close();
      await early.closed;
      const healthy = await transport.connect({ port: listener.addr.port });
      await writeAndClose(healthy, pattern(0, 10, 7));
      await acceptUntilData(listener[Symbol.asyncIterator](), pattern(0, 10, 7));
      healthy.close();
    } finally {
      await listener.close();
    }
  });
}
