/**
 * Reads and validates a connection preamble under a timeout, keeping any
 * bytes that follow it for the frame decoder.
 *
 * @module
 */
import { PreambleError, type PreambleOptions } from "../app/preamble.ts";
import { concatBytes } from "../_internal/bytes.ts";
import type { FrameWriter } from "../wire/frame_writer.ts";
import type { ProtocolHooks } from "./protocol_hooks.ts";
import type { ByteReader } from "../transport/_byte_io.ts";

/** The decoded preamble and the bytes that arrived after it. */
export interface PreambleRead {
  readonly value: unknown;
  readonly leftover: Uint8Array;
}

/**
 * The whole preamble stage of a connection: read and decode the preamble,
 * run `onSuccess` (which may reply), and on any failure run `onFailure`
 * (which may reply) and send our FIN. Resolves with the bytes that followed
 * the preamble, or `undefined` if it failed (the caller then closes).
 */
export async function runPreamble<S>(
  reader: ByteReader,
  out: FrameWriter,
  options: Required<PreambleOptions<unknown>>,
  hooks: ProtocolHooks<S>,
): Promise<Uint8Array | undefined> {
  const peer = {
    remoteAddr: hooks.ctx.remoteAddr,
    write: (bytes: Uint8Array) => out.writeRaw(bytes),
  };
  try {
    const { value, leftover } = await readPreamble(reader, options);
    await hooks.preambleAccepted(options, value, peer);
    return leftover;
  } catch (error) {
    if (!(error instanceof PreambleError)) throw error;
    await hooks.preambleFailed(options, error, peer);
    // FIN after the reply, so the peer reads it before the close; a socket
    // that failed meanwhile is closed by the caller either way.
    await out.close().catch(() => {});
    return undefined;
  }
}

/**
 * Read until `options.decode` accepts the bytes. Rejects with a
 * {@link PreambleError} on timeout, EOF, an invalid or too-long preamble.
 */
export async function readPreamble(
  reader: ByteReader,
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
      bytes = bytes.length === 0 ? value : concatBytes([bytes, value]);
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

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
