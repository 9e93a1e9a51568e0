import { test } from "node:test";
import assert from "node:assert/strict";
import { InvalidResponseError, Response, type ResponseFrame } from "../src/response.ts";

const bytes = (...values: number[]) => Uint8Array.from(values);

async function collect(response: Response): Promise<ResponseFrame[]> {
  const frames: ResponseFrame[] = [];
  for await (const frame of response) frames.push(frame);
  return frames;
}

test("Response.from normalises every handler result", async () => {
  const frame = bytes(1);
  assert.equal(Response.from(undefined).kind, "empty");
  assert.equal(Response.from(null).kind, "empty");
  assert.deepEqual(Response.from(frame).frames, [frame]);
  assert.equal(Response.from(frame).kind, "single");
  assert.equal(Response.from({ id: 3, payload: frame }).kind, "single");
  assert.equal(Response.from([frame, frame]).kind, "vec");
  const explicit = Response.vec([frame]);
  assert.equal(Response.from(explicit), explicit);
  const generated = Response.from((async function* () {
    yield frame;
  })());
  assert.equal(generated.kind, "stream");
  assert.deepEqual(await collect(generated), [frame]);
  const readable = Response.from(
    new ReadableStream<ResponseFrame>({
      start(controller) {
        controller.enqueue(frame);
        controller.close();
      },
    }),
  );
  assert.equal(readable.kind, "stream");
  assert.deepEqual(await collect(readable), [frame]);
});

test("Response.from rejects values that are not responses with a typed error", () => {
  for (const bad of [42, "text", { payload: "not bytes" }, true]) {
    assert.throws(() => Response.from(bad as never), InvalidResponseError);
  }
});

test("Response iterates single, vec and empty frames in order", async () => {
  assert.deepEqual(await collect(Response.single(bytes(1))), [bytes(1)]);
  assert.deepEqual(await collect(Response.vec([bytes(1), bytes(2)])), [bytes(1), bytes(2)]);
  assert.deepEqual(await collect(Response.empty()), []);
});
