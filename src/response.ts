/**
 * `Response`: what a handler produces — one frame, several, a stream, or
 * nothing — and the normalisation of everything a handler may return.
 *
 * @module
 */
import { WireframeBaseError } from "./error.ts";

/**
 * One outgoing frame as a handler writes it. A bare `Uint8Array` is a payload;
 * an object may override the message id and correlation id. Anything left
 * out is inherited from the request (`correlationId: null` sends none).
 */
export type ResponseFrame = Uint8Array | FrameInit;

/** An outgoing frame with optional overrides of the request's ids. */
export interface FrameInit {
  /** Message id; defaults to the request's id. */
  readonly id?: number | undefined;
  /** Correlation id; defaults to the request's; `null` sends none. */
  readonly correlationId?: bigint | null | undefined;
  /** The payload bytes. */
  readonly payload: Uint8Array;
}

/** A source of frames for a streamed response. */
export type FrameSource = ReadableStream<ResponseFrame> | AsyncIterable<ResponseFrame>;

/**
 * Everything a handler or middleware may return; the router normalises it with
 * {@link Response.from}: a `Response`, a frame, an array of frames, an async
 * generator / async iterable, a `ReadableStream`, or nothing.
 */
export type HandlerResult =
  | Response
  | ResponseFrame
  | readonly ResponseFrame[]
  | FrameSource
  | void
  | null
  | undefined;

const EMPTY: readonly ResponseFrame[] = Object.freeze([]);

/** The shape of a {@link Response}. */
export type ResponseKind = "single" | "vec" | "stream" | "empty";

/** A handler returned something that is not a response. */
export class InvalidResponseError extends WireframeBaseError {
  /**
   * Create the error.
   *
   * @param got a description of the offending value
   */
  constructor(got: string) {
    super(
      "ERR_INVALID_RESPONSE",
      `a handler returned ${got}; expected a Response, a frame, an array of frames, ` +
        "an async iterable, a ReadableStream or nothing",
    );
  }
}

/**
 * What a handler sends back: `single`, `vec`, `stream` or `empty` (roadmap 1.1).
 * Frames inherit the request's id and correlation id unless they set their own.
 *
 * Streams are best written as async generators (roadmap 2.4). When the
 * connection goes away the generator is closed, so its `finally` runs; pass
 * `ctx.signal` to anything it awaits so it is not left waiting.
 *
 * A `Response` is itself an async iterable of its frames, so a middleware can
 * wrap one: `Response.stream(mapFrames(await next()))`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Response } from "@wireframe/wireframe";
 *
 * const one = Response.single(new Uint8Array([1]));
 * const many = Response.vec([new Uint8Array([1]), { id: 9, payload: new Uint8Array([2]) }]);
 * const streamed = Response.stream((async function* () {
 *   for (let i = 0; i < 3; i++) yield new Uint8Array([i]);
 * })());
 * const nothing = Response.empty();
 *
 * assert.deepEqual([one, many, streamed, nothing].map((r) => r.kind), [
 *   "single",
 *   "vec",
 *   "stream",
 *   "empty",
 * ]);
 * assert.deepEqual(await Array.fromAsync(streamed), [
 *   Uint8Array.of(0),
 *   Uint8Array.of(1),
 *   Uint8Array.of(2),
 * ]);
 * ```
 */
export class Response implements AsyncIterable<ResponseFrame> {
  /** Which of the four shapes this response has. */
  readonly kind: ResponseKind;
  /** The frames of a `single` or `vec` response (empty otherwise). */
  readonly frames: readonly ResponseFrame[];
  /** The source of a `stream` response (`undefined` otherwise). */
  readonly source: FrameSource | undefined;

  private constructor(kind: ResponseKind, frames: readonly ResponseFrame[], source?: FrameSource) {
    this.kind = kind;
    this.frames = frames;
    this.source = source;
  }

  /** A response of exactly one frame. */
  static single(frame: ResponseFrame): Response {
    return new Response("single", [frame]);
  }

  /** A response of several frames, sent in order. */
  static vec(frames: readonly ResponseFrame[]): Response {
    return new Response("vec", frames);
  }

  /** A streamed response; frames are sent as the source produces them. */
  static stream(source: FrameSource): Response {
    return new Response("stream", EMPTY, source);
  }

  private static readonly EMPTY_RESPONSE = new Response("empty", EMPTY);

  /** A response with no frames (the request still ends normally). */
  static empty(): Response {
    return Response.EMPTY_RESPONSE;
  }

  /**
   * Normalise anything a handler may return into a `Response`.
   * @throws {InvalidResponseError} for a value that is not a response
   */
  static from(result: HandlerResult): Response {
    if (result === undefined || result === null) return Response.EMPTY_RESPONSE;
    if (result instanceof Response) return result;
    if (result instanceof Uint8Array) return new Response("single", [result]);
    if (Array.isArray(result)) return new Response("vec", result as readonly ResponseFrame[]);
    if (result instanceof ReadableStream) return new Response("stream", EMPTY, result);
    if (typeof result === "object") {
      if (Symbol.asyncIterator in result) {
        return new Response("stream", EMPTY, result as FrameSource);
      }
      if ("payload" in result && result.payload instanceof Uint8Array) {
        return new Response("single", [result as FrameInit]);
      }
    }
    throw new InvalidResponseError(describe(result));
  }

  /** Iterate the frames; for a stream this consumes its source. */
  async *[Symbol.asyncIterator](): AsyncIterator<ResponseFrame> {
    if (this.source === undefined) {
      yield* this.frames;
      return;
    }
    yield* this.source as AsyncIterable<ResponseFrame>;
  }
}

function describe(value: unknown): string {
  if (typeof value === "object") return `an object without a Uint8Array payload`;
  return `a ${typeof value} (${String(value)})`;
}
