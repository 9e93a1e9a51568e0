/**
 * The synchronous framing contract. The streaming wrappers (`FrameDecoder`,
 * `FrameEncoder`) and the server's single TransformStream per direction drive
 * these directly, so one socket chunk costs one call, however many frames it
 * holds.
 *
 * @module
 */

/** Receives a decoded frame as the span `bytes[start, end)`; see {@link FrameDecoderState.decodeSpans}. */
export type FrameSpanSink = (bytes: Uint8Array, start: number, end: number) => void;

/**
 * Per-connection decoding state. Not shareable: create one per byte stream
 * with {@link FrameCodec.createDecoder}.
 *
 * Ownership: emitted frames may be views into the chunk passed to
 * {@link FrameDecoderState.decode}, and the decoder keeps views of chunks
 * that end inside a frame until that frame completes. Do not mutate a chunk
 * after handing it to the decoder.
 */
export interface FrameDecoderState {
  /**
   * Feed one chunk; `emit` is called synchronously, in order, once per
   * complete frame. Throws a `CodecError` on corrupt or oversized framing;
   * after any throw (including one from `emit`) the decoder is failed and every
   * later call rethrows that same error.
   */
  decode(chunk: Uint8Array, emit: (frame: Uint8Array) => void): void;
  /**
   * Optional fast path: like {@link FrameDecoderState.decode}, but each frame
   * is emitted as the span `bytes[start, end)` rather than as a view of it.
   * `bytes` is the chunk (or, for a frame that straddled chunks, a buffer of
   * its own); the same rules apply to it as to a view. A consumer that strips
   * a further header (e.g. a fragment header) then allocates one view per
   * message instead of two.
   */
  decodeSpans?(chunk: Uint8Array, emit: FrameSpanSink): void;
  /**
   * Signal end of input. Returns if no partial frame is held; otherwise throws
   * `IncompleteHeaderError` or `IncompleteFrameError`.
   */
  finish(): void;
  /** Bytes currently held: a partial frame, or the rest of a chunk after {@link FrameDecoderState.stop}. */
  readonly buffered: number;
  /**
   * Optional, with {@link FrameDecoderState.takeBuffered}: called from inside
   * `emit`, it makes the decode call return after the frame being emitted.
   * The rest of the chunk is not decoded (no frame of it is emitted, no
   * framing error raised for it): it is held, and the next decode call
   * decodes it before its own chunk (an empty chunk will do). A connection
   * that may switch to TLS decodes one message at a time this way, so the
   * bytes behind the upgrade request are never read as frames.
   */
  stop?(): void;
  /**
   * Optional: hand back every byte held and not emitted — a partial frame,
   * or the rest of a chunk after {@link FrameDecoderState.stop} — in stream
   * order, exactly as they arrived, and forget them: the decoder is then as
   * new. Used to give the bytes behind a TLS upgrade request to the
   * handshake. Throws the decoder's error if it has failed.
   */
  takeBuffered?(): Uint8Array;
}

/**
 * A framing scheme: how to split a byte stream into frames and how to write a
 * frame back out.
 */
export interface FrameCodec {
  /** Largest frame, as the codec counts it, that decode accepts and encode writes. */
  readonly maxFrameLength: number;
  /** Create fresh decoding state for one byte stream. */
  createDecoder(): FrameDecoderState;
  /**
   * Bytes {@link FrameCodec.encodeInto} will write for `frame` (header and
   * body). Throws a `CodecError` if the frame cannot be encoded, as
   * `encodeInto` would: a writer checks every frame this way before queuing it.
   */
  encodedLength(frame: Uint8Array): number;
  /**
   * Write `frame` with its header into `target` at `offset`; returns the bytes
   * written. Lets a writer coalesce many frames into one buffer. Throws a
   * `CodecError` if the frame cannot be encoded, before writing anything.
   */
  encodeInto(frame: Uint8Array, target: Uint8Array, offset: number): number;
  /** Encode one frame into a new buffer (header and body, one allocation). */
  encode(frame: Uint8Array): Uint8Array;
  /**
   * Optional fast path: header bytes for a body of `bodyLength` bytes.
   * With {@link FrameCodec.encodeHeaderInto} it lets a writer encode bodies
   * straight into its output buffer instead of allocating each one. Throws a
   * `CodecError` for a body that cannot be encoded.
   */
  headerLength?(bodyLength: number): number;
  /** Optional fast path: write the header for a body of `bodyLength` bytes; returns bytes written. */
  encodeHeaderInto?(bodyLength: number, target: Uint8Array, offset: number): number;
  /**
   * Optional fast path: {@link FrameCodec.encodeInto} without its checks, for
   * a frame that `encodedLength` accepted and that has not changed since (a
   * writer sizes each frame when it queues it and writes it later). Codecs
   * whose checks scan the frame, as delimiter framing does, offer it so that
   * each frame is scanned once. The caller ensures `target` has room.
   */
  encodeCheckedInto?(frame: Uint8Array, target: Uint8Array, offset: number): number;
}
