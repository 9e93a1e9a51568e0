// Micro-benchmarks of fragmentation: `deno bench -A bench/fragment_bench.ts`, or under mitata on
// any runtime: `node bench/mitata.ts bench/fragment_bench.ts` (or `bun`, or `deno run -A`).
//
// Split (Fragmenter) and re-assemble (Reassembler) one 64 MiB message, and
// 10,000 messages of 1 KiB, with LenFlag32K (32,767-byte fragments) and
// MuxFragmentStrategy (64 KiB fragments, totalLen on seq 0). MB/s = message
// bytes per iteration / time per iteration (see docs/fragmentation.md).
//
// Re-assembly input: each fragment in its own buffer, as a FrameDecoder emits
// a frame that straddled socket chunks (the common case for large fragments).
import {
  FragmentAdapter,
  Fragmenter,
  type FragmentStrategy,
  LenFlag32K,
  MuxFragmentStrategy,
  Reassembler,
} from "../src/fragment/mod.ts";
import { bench } from "./_bench.ts";

const KiB = 1024;
const MiB = 1024 * KiB;
const LIMITS = { maxMessageSize: 64 * MiB, maxBufferedBytes: 128 * MiB };

const STRATEGIES: { label: string; strategy: FragmentStrategy }[] = [
  { label: "LenFlag32K", strategy: new LenFlag32K() },
  { label: "Mux 64 KiB", strategy: new MuxFragmentStrategy() },
];

const WORKLOADS = [
  { label: "1 × 64 MiB", messages: [fill(64 * MiB, 1)] },
  { label: "10,000 × 1 KiB", messages: Array.from({ length: 10_000 }, (_, i) => fill(KiB, i)) },
];

function fill(size: number, seed: number): Uint8Array {
  return new Uint8Array(size).fill(seed & 0xff);
}

// Results feed a module-level sink so the work cannot be optimised away.
let sink = 0;
const emit = (bytes: Uint8Array): void => {
  sink += bytes.length;
};

function fragmentsOf(strategy: FragmentStrategy, messages: readonly Uint8Array[]): Uint8Array[] {
  const fragmenter = new Fragmenter(strategy, { maxMessageSize: LIMITS.maxMessageSize });
  const out: Uint8Array[] = [];
  for (const m of messages) fragmenter.split(m, (f) => out.push(f.slice()));
  return out;
}

function streamOf(chunks: readonly Uint8Array[]): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    pull(controller) {
      const chunk = chunks[i++];
      if (chunk === undefined) controller.close();
      else controller.enqueue(chunk);
    },
  });
}

for (const { label: work, messages } of WORKLOADS) {
  for (const { label, strategy } of STRATEGIES) {
    const fragmenter = new Fragmenter(strategy, { maxMessageSize: LIMITS.maxMessageSize });
    bench({
      name: `split ${work}: ${label}`,
      group: `split ${work}`,
      baseline: label === "LenFlag32K",
      fn() {
        for (const m of messages) fragmenter.split(m, emit);
      },
    });
  }
  if (messages.length > 1) {
    // Floors for splitting small messages: copy each into a shared slab (what
    // Fragmenter does, minus headers), or into a buffer of its own.
    bench({
      name: `split ${work}: floor: slab subarray + set, no header`,
      group: `split ${work}`,
      fn() {
        let slab = new Uint8Array(0);
        let used = 0;
        for (const m of messages) {
          if (slab.length - used < m.length) [slab, used] = [new Uint8Array(64 * KiB), 0];
          const out = slab.subarray(used, used += m.length);
          out.set(m);
          emit(out);
        }
      },
    });
    bench({
      name: `split ${work}: floor: new Uint8Array + set per message`,
      group: `split ${work}`,
      fn() {
        for (const m of messages) {
          const out = new Uint8Array(m.length);
          out.set(m);
          emit(out);
        }
      },
    });
  }
  for (const { label, strategy } of STRATEGIES) {
    const fragments = fragmentsOf(strategy, messages);
    bench({
      name: `reassemble ${work}: ${label} (${fragments.length.toLocaleString("en")} fragments)`,
      group: `reassemble ${work}`,
      baseline: label === "LenFlag32K",
      fn() {
        const reassembler = new Reassembler(strategy, LIMITS);
        for (const f of fragments) reassembler.push(f, 0, emit);
        reassembler.finish();
      },
    });
  }
  if (messages.length === 1) {
    // The floor for any fresh 64 MiB message: allocate it and copy it once.
    const message = messages[0]!;
    bench({
      name: `reassemble ${work}: floor: allocate + copy ${work} once`,
      group: `reassemble ${work}`,
      fn() {
        const out = new Uint8Array(message.length);
        out.set(message);
        sink += out.length;
      },
    });
  }
  const { label, strategy } = STRATEGIES[0]!;
  const fragments = fragmentsOf(strategy, messages);
  const adapter = new FragmentAdapter(strategy, LIMITS);
  bench({
    name: `reassemble ${work}: ${label} via FragmentAdapter.inbound() stream`,
    group: `reassemble ${work}`,
    async fn() {
      await streamOf(fragments).pipeThrough(adapter.inbound()).pipeTo(
        new WritableStream({ write: emit }),
      );
    },
  });
}
