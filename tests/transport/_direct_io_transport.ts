/**
 * A Transport whose connections are read and written through
 * `openByteIo()`: their `readable` and `writable` are plain streams over
 * the direct reader and writer, so the conformance suite run over it checks
 * what the connection core relies on when it skips the web streams.
 */
import { openByteIo } from "../../src/transport/_byte_io.ts";
import type { Connection, Listener, Transport } from "../../src/transport/types.ts";

/** `conn` seen through its direct reader and writer (opened at once, as the core does). */
export function throughDirectIo(conn: Connection): Connection {
  const { reader, writer } = openByteIo(conn);
  const readable = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel: (reason) => reader.cancel(reason),
  }, { highWaterMark: 0 });
  const writable = new WritableStream<Uint8Array>({
    write: (chunk) => writer.write(chunk),
    close: () => writer.close(),
    abort: (reason) => writer.abort(reason),
  });
  return {
    readable,
    writable,
    localAddr: conn.localAddr,
    remoteAddr: conn.remoteAddr,
    closed: conn.closed,
    close: () => conn.close(),
  };
}

/** `transport`, every connection of which (both ends) goes {@link throughDirectIo}. */
export function directIoTransport(transport: Transport): Transport {
  return {
    async listen(options) {
      const listener = await transport.listen(options);
      const wrapped: Listener = {
        addr: listener.addr,
        close: () => listener.close(),
        [Symbol.asyncDispose]: () => listener.close(),
        async *[Symbol.asyncIterator]() {
          for await (const conn of listener) yield throughDirectIo(conn);
        },
      };
      return wrapped;
    },
    connect: async (options) => throughDirectIo(await transport.connect(options)),
  };
}
