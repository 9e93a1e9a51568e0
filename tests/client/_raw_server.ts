/** A scripted server on the memory transport, for driving the client with arbitrary replies. */
import { memoryTransport } from "../../src/transport/memory.ts";
import type { Connection } from "../../src/transport/types.ts";
import { deadline, RawClient } from "../e2e/_helpers.ts";

/** A listener whose accepted connections are read and written as raw bytes. */
export interface RawServer extends AsyncDisposable {
  readonly port: number;
  /** The next accepted connection. */
  accept(): Promise<RawClient>;
}

export async function rawServer(): Promise<RawServer> {
  const listener = await memoryTransport.listen({ port: 0 });
  const it = listener[Symbol.asyncIterator]();
  const accepted: RawClient[] = [];
  return {
    port: listener.addr.port,
    async accept() {
      const next = await deadline(it.next(), "a connection to accept");
      if (next.done) throw new Error("listener closed");
      const peer = RawClient.from(next.value as Connection, { answerFin: true });
      accepted.push(peer);
      return peer;
    },
    async [Symbol.asyncDispose]() {
      await listener.close();
      for (const peer of accepted) await peer[Symbol.asyncDispose]();
    },
  };
}
