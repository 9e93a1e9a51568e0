/**
 * A harness for OutboundActor unit tests: a real FrameWriter over a
 * WritableStream the test controls, the wire decoded back into envelopes, and
 * the actor's choice order recorded through its `beforeSend` hook.
 */
import { OutboundActor } from "../../src/connection/actor.ts";
import { PushQueues } from "../../src/push/push_queues.ts";
import { FrameWriter } from "../../src/wire/frame_writer.ts";
import { defaultSerializer, type Envelope } from "../../src/codec/envelope.ts";
import { LengthDelimitedCodec } from "../../src/codec/length_delimited.ts";
import { type DeadLetter, DeadLetterSink } from "../../src/push/dead_letter.ts";
import type { Clock, TokenBucket } from "../../src/push/token_bucket.ts";
import { captureLogger, type LogRecord, readU32, u32 } from "../e2e/_helpers.ts";

/** Frame ids by kind, so a decoded frame says where it came from. */
export const HIGH = 1;
export const LOW = 2;
export const RESPONSE = 3;

/** A high-priority push frame numbered `n`. */
export const high = (n: number): Envelope => ({ id: HIGH, payload: u32(n) });
/** A low-priority push frame numbered `n`. */
export const low = (n: number): Envelope => ({ id: LOW, payload: u32(n) });
/** A response frame numbered `n` (with a correlation id, as responses carry). */
export const response = (n: number): Envelope => ({
  id: RESPONSE,
  correlationId: 1n,
  payload: u32(n),
});

/** `[kind, n]` of a frame built with the helpers above. */
export function tag(frame: Envelope): string {
  const kind = frame.id === HIGH ? "h" : frame.id === LOW ? "l" : frame.id === RESPONSE ? "r" : "?";
  return `${kind}${readU32(frame.payload)}`;
}

/** Decode the bytes written so far into envelopes (default codec and envelope). */
export function decodeWire(chunks: readonly Uint8Array[]): Envelope[] {
  const decoder = new LengthDelimitedCodec().createDecoder();
  const out: Envelope[] = [];
  for (const chunk of chunks) {
    decoder.decode(chunk, (body) => out.push(defaultSerializer.decode(body.slice())));
  }
  return out;
}

/**
 * A byte sink whose writes complete only when the test says so. `open()`
 * lets every pending and future write complete; `close()` makes later writes
 * wait again.
 */
export class GatedSink {
  readonly chunks: Uint8Array[] = [];
  readonly stream: WritableStream<Uint8Array>;
  /** Writes that reached the sink (completed or not). */
  writes = 0;
  #open: boolean;
  #waiting: (() => void)[] = [];

  constructor(open = true, onWrite?: () => Promise<void>) {
    this.#open = open;
    this.stream = new WritableStream<Uint8Array>({
      write: (chunk) => {
        this.writes++;
        this.chunks.push(chunk.slice());
        if (onWrite) return onWrite();
        if (this.#open) return;
        return new Promise<void>((resolve) => this.#waiting.push(resolve));
      },
    });
  }

  open(): void {
    this.#open = true;
    for (const wake of this.#waiting.splice(0)) wake();
  }

  /** Let exactly the writes waiting now complete; later ones wait again. */
  step(): void {
    for (const wake of this.#waiting.splice(0)) wake();
  }

  /** Writes waiting for the gate. */
  get blocked(): number {
    return this.#waiting.length;
  }

  /** Envelopes written so far, in wire order. */
  frames(): Envelope[] {
    return decodeWire(this.chunks);
  }

  /** Wire order as tags (`h1`, `l99`, `r0`, …). */
  wire(): string[] {
    return this.frames().map(tag);
  }
}

/** A dead-letter stream that keeps every letter. */
export function collectingDeadLetters(): {
  stream: WritableStream<DeadLetter>;
  letters: DeadLetter[];
} {
  const letters: DeadLetter[] = [];
  const stream = new WritableStream<DeadLetter>(
    { write: (letter) => void letters.push(letter) },
    new CountQueuingStrategy({ highWaterMark: 1_000_000 }),
  );
  return { stream, letters };
}

/** Options of {@link makeActor}. */
export interface ActorSetup {
  highCapacity?: number;
  lowCapacity?: number;
  maxHighBeforeLow?: number;
  timeSliceMs?: number;
  clock?: Clock;
  /** FrameWriter high-water mark in bytes; 1 makes every frame wait for the writer. */
  highWaterMark?: number;
  sink?: GatedSink;
  rate?: TokenBucket;
  /** Called by beforeSend for every frame the actor chooses, before it is written. */
  onChoose?: (frame: Envelope) => void;
  /** Replace beforeSend entirely. */
  beforeSend?: (frame: Envelope) => Envelope;
}

/** An actor wired to a real FrameWriter over a {@link GatedSink}. */
export interface ActorRig {
  actor: OutboundActor;
  /** The actor's push queues (the target of a PushHandle). */
  queues: PushQueues;
  writer: FrameWriter;
  sink: GatedSink;
  /** Tags of frames in the order the actor chose them (its `beforeSend` calls). */
  chosen: string[];
  letters: DeadLetter[];
  deadLetters: DeadLetterSink;
  pushFaults: { error: unknown; frame: Envelope }[];
  logs: LogRecord[];
}

/** Build an actor (connection id 7) with the given tuning. */
export function makeActor(setup: ActorSetup = {}): ActorRig {
  const sink = setup.sink ?? new GatedSink();
  const writer = new FrameWriter({
    writer: sink.stream.getWriter(),
    codec: new LengthDelimitedCodec(),
    serializer: defaultSerializer,
    highWaterMark: setup.highWaterMark ?? 1,
  });
  const { logger, records } = captureLogger();
  const dlq = collectingDeadLetters();
  const deadLetters = new DeadLetterSink(dlq.stream, logger);
  const chosen: string[] = [];
  const pushFaults: ActorRig["pushFaults"] = [];
  const queues = new PushQueues({
    connectionId: 7,
    highCapacity: setup.highCapacity ?? 16,
    lowCapacity: setup.lowCapacity ?? 16,
    rate: setup.rate,
    deadLetters,
    logger,
  });
  const actor = new OutboundActor({
    queues,
    writer,
    maxHighBeforeLow: setup.maxHighBeforeLow ?? 8,
    timeSliceMs: setup.timeSliceMs,
    clock: setup.clock ?? (() => 0),
    hooks: {
      beforeSend: (frame) => {
        chosen.push(tag(frame));
        setup.onChoose?.(frame);
        return setup.beforeSend ? setup.beforeSend(frame) : frame;
      },
      pushFailed: (error, frame) => void pushFaults.push({ error, frame }),
    },
  });
  return {
    actor,
    queues,
    writer,
    sink,
    chosen,
    letters: dlq.letters,
    deadLetters,
    pushFaults,
    logs: records,
  };
}

/** Let pending promise callbacks and one macrotask run (never a correctness wait). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
