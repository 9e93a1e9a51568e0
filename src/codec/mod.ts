/**
 * Framing: split a byte stream into frames and write frames back out.
 *
 * The default is {@link LengthDelimitedCodec} (4-byte big-endian length, 1 MiB
 * max frame); text protocols use {@link LineCodec} (`\n` or `\r\n`) or
 * {@link DelimiterCodec}; MQTT-style
 * framing (a fixed header, then a base-128 length) is {@link VarintLengthCodec}. {@link FrameDecoder} / {@link FrameEncoder} wrap any
 * {@link FrameCodec} as TransformStreams.
 *
 * @module
 */
// Codec errors extend these, and codec constructors throw ConfigError.
export { ConfigError, WireframeBaseError } from "../error.ts";
export type { FrameCodec, FrameDecoderState, FrameSpanSink } from "./types.ts";
export {
  CodecError,
  DelimiterInFrameError,
  FrameTooLargeError,
  IncompleteFrameError,
  IncompleteHeaderError,
  InvalidFrameHeaderError,
  InvalidFrameLengthError,
  MalformedLengthError,
  UnterminatedFrameError,
} from "./errors.ts";
export {
  DEFAULT_MAX_FRAME_LENGTH,
  LengthDelimitedCodec,
  type LengthDelimitedOptions,
} from "./length_delimited.ts";
export type { LengthFieldLayout } from "./length_delimited_decoder.ts";
export {
  DEFAULT_MAX_DELIMITED_LENGTH,
  DelimiterCodec,
  type DelimiterOptions,
} from "./delimiter.ts";
export { LineCodec, type LineOptions } from "./line.ts";
export {
  type HeaderCheck,
  varintLength,
  VarintLengthCodec,
  type VarintLengthOptions,
  writeVarint,
} from "./varint_length.ts";
export { FrameDecoder } from "./frame_decoder.ts";
export { type FrameCodecOrOptions, toFrameCodec } from "./to_frame_codec.ts";
export { FrameEncoder } from "./frame_encoder.ts";
export {
  defaultSerializer,
  type Envelope,
  EnvelopeError,
  type EnvelopeErrorReason,
  type Serializer,
} from "./envelope.ts";
