/**
 * `FragmentAdapter`: fragmentation as a pair of TransformStreams.
 *
 * @module
 */
import { z } from "zod";
import { parseOptions } from "../_internal/options.ts";
import { FragmentError } from "./errors.ts";
import { Fragmenter } from "./fragmenter.ts";
import {
  type ReassemblyLimits,
  type ReassemblyOptions,
  resolveReassemblyOptions,
} from "./options.ts";
import { Reassembler } from "./reassembler.ts";
import type { FragmentStrategy } from "./types.ts";

const OWNER = "FragmentAdapter";

/** Options of {@link FragmentAdapter.inbound}. */
export interface FragmentInboundOptions {
  /** Monotonic milliseconds for the re-assembly timeout. Default `performance.now`. */
  clock?: () => number;
  /**
   * With `onViolation: "drop"`, called with each error the stream skipped over
   * (the offending partial message was dropped and the stream carried on).
   */
  onDropped?: (error: FragmentError) => void;
}

const fn = <T>() => z.custom<T>((v) => typeof v === "function", { error: "must be a function" });
const inboundSchema = z.strictObject({
  clock: fn<() => number>().default(() => () => performance.now()),
  onDropped: fn<(error: FragmentError) => void>().optional(),
});

/**
 * A {@link FragmentStrategy} plus {@link ReassemblyOptions}, usable around any
 * stream of frame bodies: {@link FragmentAdapter.outbound} splits messages into
 * fragment bodies, {@link FragmentAdapter.inbound} re-assembles them. The
 * connection uses {@link FragmentAdapter.createFragmenter} and
 * {@link FragmentAdapter.createReassembler} directly, without the stream hop.
 *
 * @example Frame bodies in, messages out
 * ```ts
 * import assert from "node:assert/strict";
 * import { FrameDecoder, FrameEncoder } from "@wireframe/wireframe/codec";
 * import { FragmentAdapter, LenFlag32K } from "@wireframe/wireframe/fragment";
 *
 * const adapter = new FragmentAdapter(new LenFlag32K(), { maxMessageSize: 8 * 1024 * 1024 });
 * const wire = ReadableStream.from([new Uint8Array(100_000)])
 *   .pipeThrough(adapter.outbound()) // 4 fragments: 3 × 32 KiB − 1, then the rest
 *   .pipeThrough(new FrameEncoder());
 * const messages = wire.pipeThrough(new FrameDecoder()).pipeThrough(adapter.inbound());
 * const lengths = (await Array.fromAsync(messages)).map((message) => message.length);
 * assert.deepEqual(lengths, [100_000]);
 * ```
 */
export class FragmentAdapter {
  /** The header format. */
  readonly strategy: FragmentStrategy;
  /** The limits in force, defaults applied; `maxMessageSize` bounds both directions. */
  readonly limits: ReassemblyLimits;

  /**
   * Create an adapter.
   *
   * @param strategy the fragment header format
   * @param options re-assembly limits; see {@link ReassemblyOptions}
   * @throws {ConfigError} if a limit is out of range
   */
  constructor(strategy: FragmentStrategy, options?: ReassemblyOptions) {
    this.strategy = strategy;
    this.limits = resolveReassemblyOptions(OWNER, options);
  }

  /** A fresh {@link Fragmenter} (own message ids) bounded by `maxMessageSize`. */
  createFragmenter(): Fragmenter {
    return new Fragmenter(this.strategy, { maxMessageSize: this.limits.maxMessageSize });
  }

  /** A fresh {@link Reassembler} with this adapter's limits. */
  createReassembler(): Reassembler {
    return new Reassembler(this.strategy, this.limits);
  }

  /**
   * Messages in, fragment bodies out (one chunk per fragment). A message
   * longer than `maxMessageSize` errors the stream with `MessageTooLargeError`.
   */
  outbound(): TransformStream<Uint8Array, Uint8Array> {
    const fragmenter = this.createFragmenter();
    let emit: (fragment: Uint8Array) => void;
    return new TransformStream({
      start(controller) {
        emit = (fragment) => controller.enqueue(fragment);
      },
      transform(message) {
        fragmenter.split(message, emit);
      },
    });
  }

  /**
   * Fragment bodies in, messages out. A violation errors the stream with its
   * `FragmentError` (or, with `onViolation: "drop"`, is passed to `onDropped`).
   * A timer armed at the oldest partial message's deadline evicts it even if
   * no more bytes arrive, erroring the stream with `ReassemblyTimeoutError`.
   * Input that ends inside a message errors it with `IncompleteMessageError`.
   * The timer is cleared on close, cancel and error.
   *
   * @param options clock and drop callback; see {@link FragmentInboundOptions}
   * @throws {ConfigError} if an option is invalid
   */
  inbound(options?: FragmentInboundOptions): TransformStream<Uint8Array, Uint8Array> {
    const { clock, onDropped } = parseOptions(`${OWNER}.inbound`, inboundSchema, options);
    const reassembler = this.createReassembler();
    const drop = this.limits.onViolation === "drop";
    let timer: ReturnType<typeof setTimeout> | undefined;
    let controller: TransformStreamDefaultController<Uint8Array>;
    let emit: (message: Uint8Array) => void;

    const disarm = (): void => {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    };
    const handle = (err: unknown): void => {
      if (drop && err instanceof FragmentError) return onDropped?.(err);
      disarm();
      throw err;
    };
    // Deadlines only grow (oldest first, monotonic clock), so an armed timer is
    // never later than the next deadline: arm only when none is armed.
    const arm = (): void => {
      if (timer !== undefined || reassembler.partialMessages === 0) return;
      const delay = reassembler.nextDeadline()! - clock();
      timer = setTimeout(onTimer, delay > 1 ? Math.ceil(delay) : 1); // never a 0 ms spin
    };
    const onTimer = (): void => {
      timer = undefined;
      try {
        reassembler.expire(clock());
      } catch (err) {
        try {
          handle(err);
        } catch (fatal) {
          controller.error(fatal);
          return;
        }
      }
      arm();
    };

    return new TransformStream({
      start(c) {
        controller = c;
        emit = (message) => c.enqueue(message);
      },
      transform(fragment) {
        try {
          reassembler.push(fragment, clock(), emit);
        } catch (err) {
          handle(err);
        }
        arm();
      },
      flush() {
        disarm();
        reassembler.finish();
      },
      cancel() {
        disarm();
        reassembler.clear();
      },
    });
  }
}
