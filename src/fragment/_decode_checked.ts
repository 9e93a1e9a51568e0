/**
 * A strategy's `decodeHeader`, with every answer checked: the reassembler
 * trusts nothing a (possibly custom) strategy returns.
 *
 * @module
 */
import { FragmentError, MalformedFragmentError } from "./errors.ts";
import type { DecodedHeader, DecodeHeaderResult, FragmentStrategy } from "./types.ts";

/**
 * Decode the header of a whole fragment body.
 *
 * @throws {FragmentError} the strategy's own, or `MalformedFragmentError` for a
 *   truncated or invalid header, or a payload length that disagrees with the bytes
 */
export function decodeChecked(strategy: FragmentStrategy, fragment: Uint8Array): DecodedHeader {
  let result: DecodeHeaderResult;
  try {
    result = strategy.decodeHeader(fragment);
  } catch (err) {
    if (err instanceof FragmentError) throw err;
    throw new MalformedFragmentError("invalid-header", "the strategy could not decode it", {
      cause: err,
    });
  }
  if (result.kind === "need-more") {
    throw new MalformedFragmentError("truncated-header", `${fragment.length}-byte fragment`);
  }
  const { meta, headerLen } = result;
  if (
    !(Number.isInteger(headerLen) && headerLen >= 0 && headerLen <= fragment.length) ||
    !validMeta(meta)
  ) {
    throw new MalformedFragmentError("invalid-header", "the strategy returned an invalid header");
  }
  if (meta.payloadLen !== fragment.length - headerLen) {
    throw new MalformedFragmentError(
      "payload-length",
      `header says ${meta.payloadLen} payload bytes, ${fragment.length - headerLen} follow`,
    );
  }
  return result;
}

function validMeta(meta: DecodedHeader["meta"]): boolean {
  return Number.isInteger(meta.msgId) && meta.msgId >= 0 && Number.isInteger(meta.seq) &&
    meta.seq >= 0 && Number.isInteger(meta.payloadLen) && meta.payloadLen >= 0 &&
    (meta.totalLen === undefined || (Number.isInteger(meta.totalLen) && meta.totalLen >= 0));
}
