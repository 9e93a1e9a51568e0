// Micro-benchmarks of framing: `deno bench bench/codec_bench.ts`, or under mitata on any runtime:
// `node bench/mitata.ts bench/codec_bench.ts` (or `bun`, or `deno run -A`).
//
// Every iteration moves 1 MiB of frame bodies (16384 × 64 B, 256 × 4 KiB or
// 1 × 1 MiB) plus a 4-byte header per frame, so MB/s = wire bytes per
// iteration / time per iteration (see docs/codec.md for the table).
import { concatBytes as concat } from "../src/_internal/bytes.ts";
import {
  DelimiterCodec,
  type FrameCodec,
  FrameDecoder,
  FrameEncoder,
  LengthDelimitedCodec,
  LineCodec,
} from "../src/codec/mod.ts";
import { bench } from "./_bench.ts";

const KiB = 1024;
const MiB = 1024 * KiB;
const codec = new LengthDelimitedCodec({ maxFrameLength: 2 * MiB });

const SIZES = [
  { label: "64 B", size: 64, straddle: [64 * KiB] },
  { label: "4 KiB", size: 4 * KiB, straddle: [64 * KiB] },
  { label: "1 MiB", size: MiB, straddle: [64 * KiB, KiB] },
];

function bodiesOf(size: number): Uint8Array[] {
  return Array.from({ length: MiB / size }, (_, i) => new Uint8Array(size).fill(i & 0xff));
}

function chunksOf(data: Uint8Array, size: number): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < data.length; at += size) chunks.push(data.subarray(at, at + size));
  return chunks;
}

function kib(bytes: number): string {
  return bytes >= MiB ? `${bytes / MiB} MiB` : `${bytes / KiB} KiB`;
}

// Results feed a module-level sink so the work cannot be optimised away.
let sink = 0;
const emit = (frame: Uint8Array): void => {
  sink += frame.length;
};

function drain(readable: ReadableStream<Uint8Array>): Promise<void> {
  return readable.pipeTo(
    new WritableStream({
      write(chunk) {
        sink += chunk.length;
      },
    }),
  );
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

for (const { label, size, straddle } of SIZES) {
  const bodies = bodiesOf(size);
  const wire = concat(bodies.map((b) => codec.encode(b)));
  const group = `decode ${label}`;
  bench({
    name: `decode ${label} frames: all in one chunk`,
    group,
    baseline: true,
    fn() {
      const decoder = codec.createDecoder();
      decoder.decode(wire, emit);
      decoder.finish();
    },
  });
  for (const chunkSize of straddle) {
    const chunks = chunksOf(wire, chunkSize);
    bench({
      name: `decode ${label} frames: ${kib(chunkSize)} chunks (straddling)`,
      group,
      fn() {
        const decoder = codec.createDecoder();
        for (const chunk of chunks) decoder.decode(chunk, emit);
        decoder.finish();
      },
    });
  }
  if (size <= 4 * KiB) {
    const chunks = chunksOf(wire, 64 * KiB);
    bench({
      name: `decode ${label} frames: FrameDecoder stream, 64 KiB chunks`,
      group,
      async fn() {
        await drain(streamOf(chunks).pipeThrough(new FrameDecoder(codec)));
      },
    });
  }
}

for (const { label, size } of SIZES) {
  const bodies = bodiesOf(size);
  const target = new Uint8Array(bodies.reduce((n, b) => n + codec.encodedLength(b), 0));
  const group = `encode ${label}`;
  bench({
    name: `encode ${label} frames: encode() per frame`,
    group,
    baseline: true,
    fn() {
      for (const body of bodies) sink += codec.encode(body).length;
    },
  });
  bench({
    name: `encode ${label} frames: encodeInto() one coalesced buffer`,
    group,
    fn() {
      let at = 0;
      for (const body of bodies) at += codec.encodeInto(body, target, at);
      sink += at;
    },
  });
  if (size <= 4 * KiB) {
    bench({
      name: `encode ${label} frames: FrameEncoder stream`,
      group,
      async fn() {
        await drain(streamOf(bodies).pipeThrough(new FrameEncoder(codec)));
      },
    });
  }
}

// Delimiter framing against length framing on comparable input: 1 MiB of 16 B or
// 64 B bodies (no CR or LF in them), each framed by LineCodec (+ CRLF),
// DelimiterCodec(";") (+ 1 byte) or LengthDelimitedCodec (+ 4 bytes).
const lineCodec = new LineCodec();
const semicolon = new DelimiterCodec({ delimiter: ";" });
const emitSpan = (_bytes: Uint8Array, start: number, end: number): void => {
  sink += end - start;
};
for (const size of [16, 64]) {
  const bodies = Array.from(
    { length: MiB / size },
    (_, i) => new Uint8Array(size).fill(0x61 + (i % 26)),
  );
  const group = `decode ${size} B lines`;
  const cases: [string, FrameCodec, Uint8Array][] = [
    ["LengthDelimitedCodec", codec, concat(bodies.map((b) => codec.encode(b)))],
    ["LineCodec (CRLF)", lineCodec, concat(bodies.map((b) => lineCodec.encode(b)))],
    ['DelimiterCodec (";")', semicolon, concat(bodies.map((b) => semicolon.encode(b)))],
  ];
  for (const [name, framing, wire] of cases) {
    bench({
      name: `decode ${size} B: ${name}, all in one chunk`,
      group,
      baseline: framing === codec,
      fn() {
        const decoder = framing.createDecoder();
        decoder.decode(wire, emit);
        decoder.finish();
      },
    });
    const chunks = chunksOf(wire, 64 * KiB);
    bench({
      name: `decode ${size} B: ${name}, 64 KiB chunks (straddling)`,
      group,
      fn() {
        const decoder = framing.createDecoder();
        for (const chunk of chunks) decoder.decode(chunk, emit);
        decoder.finish();
      },
    });
    if (framing === lineCodec) {
      bench({
        name: `decode ${size} B: ${name}, one chunk, decodeSpans`,
        group,
        fn() {
          const decoder = framing.createDecoder();
          decoder.decodeSpans!(wire, emitSpan);
          decoder.finish();
        },
      });
      const small = chunksOf(wire, 1500);
      bench({
        name: `decode ${size} B: ${name}, 1500 B chunks (straddling)`,
        group,
        fn() {
          const decoder = framing.createDecoder();
          for (const chunk of small) decoder.decode(chunk, emit);
          decoder.finish();
        },
      });
    }
  }
  const encodeGroup = `encode ${size} B lines`;
  for (
    const [name, framing] of [["LengthDelimitedCodec", codec], ["LineCodec", lineCodec]] as [
      string,
      FrameCodec,
    ][]
  ) {
    const target = new Uint8Array(bodies.reduce((n, b) => n + framing.encodedLength(b), 0));
    bench({
      name: `encode ${size} B: ${name}, encodedLength + encodeInto one coalesced buffer`,
      group: encodeGroup,
      baseline: framing === codec,
      fn() {
        let at = 0;
        for (const body of bodies) {
          sink += framing.encodedLength(body); // the writer checks every frame when queuing it
          at += framing.encodeInto(body, target, at);
        }
        sink += at;
      },
    });
    if (framing.encodeCheckedInto === undefined) continue;
    bench({
      name:
        `encode ${size} B: ${name}, encodedLength + encodeCheckedInto (the FrameWriter's calls)`,
      group: encodeGroup,
      fn() {
        let at = 0;
        for (const body of bodies) {
          sink += framing.encodedLength(body);
          at += framing.encodeCheckedInto!(body, target, at);
        }
        sink += at;
      },
    });
  }
}
