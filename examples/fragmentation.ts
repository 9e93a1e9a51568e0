/**
 * Fragmentation, end to end and on its own:
 *
 * 1. A server and a client exchange a 5 MiB message over `LenFlag32K` with an
 *    8 KiB frame limit, and print how many fragments each way took.
 * 2. Two messages are fragmented with the multiplexed strategy, their
 *    fragments interleaved (A1 B1 A2 B2 …) through a plain framed byte stream,
 *    and re-assembled independently by `FragmentAdapter.inbound()`.
 *
 * Run: `deno run --allow-net examples/fragmentation.ts` or `bun examples/fragmentation.ts`.
 *
 * @module
 */
import { WireframeClient, WireframeServer } from "@wireframe/wireframe";
import { FrameDecoder, FrameEncoder } from "@wireframe/wireframe/codec";
import {
  FragmentAdapter,
  type FragmentMeta,
  type FragmentStrategy,
  MuxFragmentStrategy,
} from "@wireframe/wireframe/fragment";
import { fragmentEchoApp, fragmentFraming } from "./fragment_echo_server.ts";

/** Wrap a strategy to count the fragment headers it writes and reads. */
function counted(
  strategy: FragmentStrategy,
): FragmentStrategy & { sent: number; received: number } {
  const counter = {
    sent: 0,
    received: 0,
    multiplexed: strategy.multiplexed,
    maxMsgId: strategy.maxMsgId,
    decodeHeader(bytes: Uint8Array) {
      const result = strategy.decodeHeader(bytes);
      if (result.kind === "header") counter.received++;
      return result;
    },
    headerLength: (meta: FragmentMeta, frame: Uint8Array) => strategy.headerLength(meta, frame),
    encodeHeaderInto(meta: FragmentMeta, frame: Uint8Array, target: Uint8Array, offset: number) {
      counter.sent++;
      return strategy.encodeHeaderInto(meta, frame, target, offset);
    },
    maxFragmentPayload: (frame: Uint8Array) => strategy.maxFragmentPayload(frame),
  };
  return counter;
}

// --- 1. 5 MiB through a real server over LenFlag32K with 8 KiB frames ---
const server = new WireframeServer(fragmentEchoApp());
const { hostname, port } = await server.listen({ port: 0 });
const { codec, strategy, limits } = fragmentFraming();
const clientStrategy = counted(strategy);
const client = await WireframeClient.connect({
  hostname,
  port,
  codec,
  fragmentation: { strategy: clientStrategy, limits },
});
const message = new Uint8Array(5 * 1024 * 1024).map((_, i) => i % 251);
const echoed = await client.request(1, message, { signal: AbortSignal.timeout(30_000) });
const intact = echoed.payload.length === message.length &&
  echoed.payload.every((b, i) => b === message[i]);
console.log(
  `5 MiB echo over LenFlag32K, 8 KiB frames: sent ${clientStrategy.sent} fragments, ` +
    `received ${clientStrategy.received} fragments, payload intact: ${intact}`,
);
await client.close();
await server.shutdown();

// --- 2. Interleaved multiplexed fragments, re-assembled independently ---
const mux = new FragmentAdapter(new MuxFragmentStrategy({ maxFragmentPayload: 4 }));
const fragmenter = mux.createFragmenter();
const text = new TextEncoder();
const split = (body: string) => {
  const fragments: Uint8Array[] = [];
  fragmenter.split(text.encode(body), (f) => void fragments.push(f.slice()));
  return fragments;
};
const a = split("AAAA-aaaa-AAAA");
const b = split("BBBB-bbbb-BBBB");
const interleaved = a.flatMap((fragment, i) => (b[i] ? [fragment, b[i]!] : [fragment]));
console.log(`interleaving ${a.length} fragments of A with ${b.length} of B`);
const wire = new ReadableStream<Uint8Array>({
  start(controller) {
    for (const fragment of interleaved) controller.enqueue(fragment);
    controller.close();
  },
}).pipeThrough(new FrameEncoder()).pipeThrough(new FrameDecoder()).pipeThrough(mux.inbound());
for await (const reassembled of wire) {
  console.log(`re-assembled: ${new TextDecoder().decode(reassembled)}`);
}
