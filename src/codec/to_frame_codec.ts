/**
 * The one place that turns "a codec, or options for the default one" into a
 * codec: used by the app, the client and the codec streams alike.
 *
 * @module
 */
import { LengthDelimitedCodec, type LengthDelimitedOptions } from "./length_delimited.ts";
import type { FrameCodec } from "./types.ts";

/** A `FrameCodec`, or options for a {@link LengthDelimitedCodec}. */
export type FrameCodecOrOptions = FrameCodec | LengthDelimitedOptions;

/** Use `input` if it is a codec, else build a {@link LengthDelimitedCodec} from it. */
export function toFrameCodec(input?: FrameCodecOrOptions): FrameCodec {
  if (
    input !== undefined && "createDecoder" in input && typeof input.createDecoder === "function"
  ) {
    return input;
  }
  return new LengthDelimitedCodec(input as LengthDelimitedOptions | undefined);
}
