/**
 * Reads and validates a connection preamble under a timeout, keeping any
 * bytes that follow it for the frame decoder.
 *
 * @module
 */
import { PreambleError, type PreambleOptions } from "../app/preamble.ts";

/** The decoded preamble and the bytes that arrived after it. */
export interface PreambleRead {
  readonly value: unknown;
  readonly leftover: Uint8Array;
}

/**
 * Read until `options.decode` accepts the bytes. Rejects with a
 * {@link PreambleError} on timeout, EOF, an invalid or too-long preamble.
 */
export async function readPreamble(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  options: Required<PreambleOptions<unknown>>,
): Promise<PreambleRead> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new PreambleError("timeout", `no preamble within ${options.timeoutMs} ms`)),
      options.timeoutMs,
    );
  });
  try {
    let bytes: Uint8Array = new Uint8Array(0);
    while (true) {
      const { done, value } = await Promise.race([reader.read(), timeout]);
      if (done) throw new PreambleError("eof", "connection closed before the preamble completed");
      bytes = concat(bytes, value);
      const decoded = decodeSafely(options, bytes);
      if (decoded !== undefined) {
        return { value: decoded.value, leftover: bytes.subarray(decoded.length) };
      }
      if (bytes.length >= options.maxBytes) {
        throw new PreambleError(
          "too-long",
          `preamble incomplete after ${bytes.length} bytes (max ${options.maxBytes})`,
        );
      }
    }
  } finally {
    clearTimeout(timer);
  }
}

function decodeSafely(options: Required<PreambleOptions<unknown>>, bytes: Uint8Array) {
  let decoded;
  try {
    decoded = options.decode(bytes);
  } catch (error) {
    throw new PreambleError("invalid", `invalid preamble: ${messageOf(error)}`, error);
  }
  if (decoded === undefined) return undefined;
  if (!Number.isInteger(decoded.length) || decoded.length < 1 || decoded.length > bytes.length) {
    throw new PreambleError(
      "invalid",
      `preamble decode returned length ${decoded.length}, outside 1..${bytes.length}`,
    );
  }
  return decoded;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
