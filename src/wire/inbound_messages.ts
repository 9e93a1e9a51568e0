/**
 * The inbound half of a connection in one synchronous step per socket chunk:
 * frame decoding, then (when the app fragments) re-assembly, with the one
 * timer that evicts a stalled partial message even if no byte arrives again.
 *
 * @module
 */
import type { FrameCodec, FrameDecoderState, FrameSpanSink } from "../codec/types.ts";
import { Reassembler, type ReassemblyWatcher } from "../fragment/reassembler.ts";
import type { FragmentationSpec } from "./fragmentation_spec.ts";

type FrameSink = (message: Uint8Array) => void;

/** A sink for no call: what the per-call sinks hold between calls. */
const ignore: FrameSink = () => {};

/** Bytes in, whole message bodies out (frames, or re-assembled messages). */
export class InboundMessages {
  #decoder: FrameDecoderState;
  readonly #codec: FrameCodec;
  readonly #reassembler: Reassembler | undefined;
  /** Kept only with re-assembly: nothing else expires. */
  readonly #onExpired: ((error: unknown) => void) | undefined;
  // Fragments go from the decoder straight into the re-assembler: no array,
  // no second loop. `now` and `emit` are per call, so they live in fields;
  // `now` is -1 until the call's first fragment that needs the time.
  #now = -1;
  #emit: FrameSink = ignore;
  // The decoder's callbacks are made only for a connection that needs them
  // (one that fragments, one that may upgrade): an idle connection keeps none.
  readonly #emitFragment: ((bytes: Uint8Array, start: number, end: number) => void) | undefined;
  readonly #emitFragmentView: FrameSink | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAt = Infinity;
  /** Stop the decoder after each message (see {@link InboundMessages.oneAtATime}). */
  #oneAtATime = false;
  /** The last decode call stopped after a message: the decoder holds bytes not decoded yet. */
  #stopped = false;
  #sink: FrameSink = ignore;
  #emitOne: FrameSink | undefined;

  /**
   * @param codec the frame codec
   * @param fragmentation re-assembly, if the protocol fragments messages
   * @param onExpired called (from a timer) when a partial message times out; the connection must close
   */
  constructor(
    codec: FrameCodec,
    fragmentation: FragmentationSpec | undefined,
    onExpired: (error: unknown) => void,
  ) {
    this.#codec = codec;
    this.#decoder = codec.createDecoder();
    this.#reassembler = fragmentation &&
      new Reassembler(fragmentation.strategy, fragmentation.limits);
    this.#onExpired = this.#reassembler && onExpired;
    const reassembler = this.#reassembler;
    if (reassembler !== undefined) {
      const emitFragment = (bytes: Uint8Array, start: number, end: number): void => {
        if (reassembler.pushWhole(bytes, start, end, this.#emit)) return;
        reassembler.pushSpan(bytes, start, end, this.#clock(), this.#emit);
      };
      this.#emitFragment = emitFragment;
      this.#emitFragmentView = (fragment) => emitFragment(fragment, 0, fragment.length);
    }
  }

  /**
   * Decode `chunk`, calling `emit` for every complete message, in order.
   * Throws a `CodecError` or a `FragmentError`; messages completed before the
   * fault have been emitted. With `emitSpan`, whole frames a decoder can
   * hand over as spans (no re-assembly, no one-at-a-time decoding) go there
   * instead, as spans of `chunk`: no view is made of each.
   */
  decode(
    chunk: Uint8Array,
    emit: (message: Uint8Array) => void,
    emitSpan?: FrameSpanSink,
  ): void {
    this.#stopped = false;
    if (emitSpan !== undefined && this.#reassembler === undefined && !this.#oneAtATime) {
      const decoder = this.#decoder;
      if (decoder.decodeSpans) return decoder.decodeSpans(chunk, emitSpan);
    }
    if (this.#oneAtATime) {
      this.#sink = emit;
      emit = this.#emitOne ??= (message) => {
        this.#decoder.stop!();
        this.#stopped = true;
        this.#sink(message);
      };
    }
    if (this.#reassembler === undefined) return this.#decoder.decode(chunk, emit);
    this.#now = -1;
    this.#emit = emit;
    try {
      // A re-assembly fault thrown from inside emit fails the decoder too; the
      // connection closes either way.
      if (this.#decoder.decodeSpans) this.#decoder.decodeSpans(chunk, this.#emitFragment!);
      else this.#decoder.decode(chunk, this.#emitFragmentView!);
    } finally {
      this.#arm();
    }
  }

  /**
   * Whether the codec's decoder can stop after a frame and hand back the
   * bytes it holds (`stop()` and `takeBuffered()`), as a TLS upgrade that
   * keeps the bytes behind its request needs.
   */
  get canHandBack(): boolean {
    return typeof this.#decoder.stop === "function" &&
      typeof this.#decoder.takeBuffered === "function";
  }

  /**
   * Emit at most one message per {@link InboundMessages.decode} call, the
   * rest of the chunk left undecoded ({@link InboundMessages.takeUndecoded}):
   * while a connection may still switch to TLS, no byte behind a request is
   * read as a frame before the request is handled. Needs
   * {@link InboundMessages.canHandBack}; ignored without it.
   */
  set oneAtATime(on: boolean) {
    this.#oneAtATime = on && this.canHandBack;
  }

  /** After a decode call that stopped after a message: the bytes it left, to decode next. */
  takeUndecoded(): Uint8Array | undefined {
    if (!this.#stopped) return undefined;
    this.#stopped = false;
    const rest = this.#decoder.takeBuffered!();
    return rest.length > 0 ? rest : undefined;
  }

  /**
   * Every byte the decoder holds and has not emitted, in order, and forget
   * them; `undefined` if the codec cannot hand them back.
   */
  takeBuffered(): Uint8Array | undefined {
    if (!this.canHandBack) return undefined;
    this.#stopped = false;
    return this.#decoder.takeBuffered!();
  }

  /** Report re-assembly's messages started, completed and evicted (without fragmentation: none). */
  watchReassembly(watcher: ReassemblyWatcher): void {
    this.#reassembler?.watch(watcher);
  }

  /** Bytes held by re-assembly for messages not complete yet (0 without fragmentation). */
  get reassemblyBytes(): number {
    return this.#reassembler?.bufferedBytes ?? 0;
  }

  /** True while the decoder holds the beginning of a frame that is not complete yet. */
  get holdsPartialFrame(): boolean {
    return this.#decoder.buffered > 0;
  }

  /**
   * Forget the bytes of a frame not complete yet (a fresh decoder): what a
   * peer sent before a TLS upgrade must not be read as if it came after.
   */
  discardPartialFrame(): void {
    this.#stopped = false;
    this.#decoder = this.#codec.createDecoder();
  }

  /** At the peer's EOF: throws if a frame or a message is incomplete. */
  finish(): void {
    this.#decoder.finish();
    this.#reassembler?.finish();
  }

  /** Free partial messages and stop the timer. */
  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#reassembler?.clear();
  }

  /**
   * The time of the current chunk, read once per chunk and only if a fragment
   * needs it: whole messages never do, and on Deno a clock read costs ~0.2 µs.
   */
  #clock(): number {
    if (this.#now < 0) this.#now = performance.now();
    return this.#now;
  }

  /** Keep one timer at the earliest re-assembly deadline (deadlines only move later). */
  #arm(): void {
    // Nothing held (the common case): any armed timer finds nothing and lapses.
    if (this.#reassembler === undefined || this.#reassembler.partialMessages === 0) return;
    const deadline = this.#reassembler.nextDeadline();
    if (deadline === undefined || deadline >= this.#timerAt) return;
    clearTimeout(this.#timer);
    this.#timerAt = deadline;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#timerAt = Infinity;
      try {
        this.#reassembler!.expire(performance.now());
        this.#arm();
      } catch (error) {
        this.close();
        this.#onExpired!(error);
      }
    }, Math.max(0, Math.ceil(deadline - performance.now())));
  }
}
