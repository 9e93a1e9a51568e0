// What fragmentation adds to a message that fits one frame, on the exact code
// a server runs for it, one direction at a time:
//   inbound:  a socket read of 16 requests → frame decoder (→ re-assembly) → envelope decode
//   outbound: 16 answer envelopes → the coalescing writer (→ fragment header) → one write
// Transport, router and actor are left out: they do the same work either way.
//
// Usage: deno run -A bench/fragment_path_bench.ts [pairs]   |   bun bench/fragment_path_bench.ts
//
// Runs with and without fragmentation alternate (A B A B …) and each run is
// timed in process CPU time, so other guests on a shared VM do not count; the
// summary is the median per case and the median per-pair difference, per message.
import process from "node:process";
import { defaultSerializer, type Envelope } from "../src/codec/envelope.ts";
import { LengthDelimitedCodec } from "../src/codec/length_delimited.ts";
import { FrameWriter } from "../src/wire/frame_writer.ts";
import { InboundMessages } from "../src/wire/inbound_messages.ts";
import { fragmentationSpec } from "../src/wire/fragmentation_spec.ts";
import { Fragmenter } from "../src/fragment/fragmenter.ts";
import { LenFlag32K } from "../src/fragment/len_flag_32k.ts";
import { MAX_FRAGMENT_PAYLOAD, MAX_FRAME } from "../examples/fragment_echo_server.ts";
import { echoRequests, PAYLOAD } from "./_echo_requests.ts";

const DEPTH = 16;
const READS = 100_000;
const PAIRS = Number(process.argv[2] ?? 9);
const codec = new LengthDelimitedCodec({ maxFrameLength: MAX_FRAME });
const strategy = new LenFlag32K({ maxFragmentPayload: MAX_FRAGMENT_PAYLOAD });

// Results feed a module-level sink so the work cannot be optimised away.
let sink = 0;
const socket = {
  write(chunk: Uint8Array): Promise<void> {
    sink += chunk.length;
    return Promise.resolve();
  },
} as WritableStreamDefaultWriter<Uint8Array>;

type Step = () => Promise<void> | void;

function inbound(fragmented: boolean): Step {
  const messages = new InboundMessages(
    codec,
    fragmented ? fragmentationSpec("bench", strategy, {}) : undefined,
    (error) => {
      throw error;
    },
  );
  const chunk = echoRequests(DEPTH, fragmented);
  const onMessage = (body: Uint8Array): void => {
    sink += defaultSerializer.decode(body).payload.length;
  };
  return () => messages.decode(chunk, onMessage);
}

function outbound(fragmented: boolean): Step {
  const writer = new FrameWriter({
    writer: socket,
    codec,
    serializer: defaultSerializer,
    fragmenter: fragmented ? new Fragmenter(strategy) : undefined,
  });
  const answers: Envelope[] = Array.from({ length: DEPTH }, (_, i) => ({
    id: 1,
    correlationId: BigInt(i + 1),
    payload: new Uint8Array(PAYLOAD),
  }));
  return () => {
    for (const answer of answers) writer.send(answer);
    return writer.flush();
  };
}

/** CPU nanoseconds per message over READS steps. */
async function time(step: Step): Promise<number> {
  const started = process.cpuUsage();
  for (let i = 0; i < READS; i++) await step();
  const used = process.cpuUsage(started);
  return ((used.user + used.system) * 1000) / (READS * DEPTH);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

for (const [direction, make] of [["inbound", inbound], ["outbound", outbound]] as const) {
  const plainStep = make(false);
  const fragmentedStep = make(true);
  await time(plainStep); // warm-up: let the JIT compile both paths first
  await time(fragmentedStep);
  const plain: number[] = [];
  const fragmented: number[] = [];
  for (let pair = 0; pair < PAIRS; pair++) {
    plain.push(await time(plainStep));
    fragmented.push(await time(fragmentedStep));
  }
  const delta = median(fragmented.map((f, i) => f - plain[i]!));
  console.log(
    `${direction}: plain ${median(plain).toFixed(0)} ns/msg, LenFlag32K ${
      median(fragmented).toFixed(0)
    } ns/msg, difference ${delta.toFixed(0)} ns/msg (median of ${PAIRS} pairs)`,
  );
}
if (sink < 0) console.log(sink);
