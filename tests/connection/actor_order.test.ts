/**
 * OutboundActor scheduling: strict priority, FIFO, the fairness bound, the
 * time slice, and how far a response may get ahead of a push.
 *
 * Frames are queued while the writer has no room (high-water mark of 1 byte:
 * every frame makes the actor wait for the writer), so the actor's choices,
 * not the order of the calls, decide the wire order.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { PushHandle } from "../../src/push/push_handle.ts";
import { TokenBucket } from "../../src/push/token_bucket.ts";
import { deadline } from "../e2e/_helpers.ts";
import { GatedSink, high, low, makeActor, response } from "./_actor.ts";

/** Queue everything `queue` pushes while the actor is busy with a first response frame. */
async function wireOrder(
  tuning: Parameters<typeof makeActor>[0],
  queue: (rig: ReturnType<typeof makeActor>) => void,
): Promise<string[]> {
  const rig = makeActor(tuning);
  assert.equal(rig.actor.offerResponse(response(0)), undefined, "an idle actor writes at once");
  queue(rig);
  await deadline(rig.actor.idle(), "actor idle");
  await deadline(rig.writer.flush(), "writer flush");
  assert.deepEqual(rig.sink.wire(), rig.chosen, "the wire order is the actor's choice order");
  return rig.sink.wire();
}

test("strict order: high before low before response, FIFO within each", async () => {
  let second: Promise<void> | undefined;
  const wire = await wireOrder({ maxHighBeforeLow: 0 }, ({ actor, queues }) => {
    second = actor.offerResponse(response(1));
    assert.ok(second instanceof Promise, "the next response frame waits while the writer is busy");
    for (
      const [frame, priority] of [[low(1), "low"], [high(1), "high"], [low(2), "low"]] as const
    ) {
      assert.equal(queues.tryPush(frame, priority, true), "queued");
    }
    assert.equal(queues.tryPush(high(2), "high", true), "queued");
  });
  await second;
  assert.deepEqual(wire, ["r0", "h1", "h2", "l1", "l2", "r1"]);
});

test("fairness: with maxHighBeforeLow 2, highs 1-5 and low 99 go out as 1,2,99,3,4,5", async () => {
  const wire = await wireOrder({ maxHighBeforeLow: 2 }, ({ queues }) => {
    for (let n = 1; n <= 5; n++) queues.tryPush(high(n), "high", true);
    queues.tryPush(low(99), "low", true);
  });
  assert.deepEqual(wire, ["r0", "h1", "h2", "l99", "h3", "h4", "h5"]);
});

test("fairness: one low after every maxHighBeforeLow highs while both are waiting", async () => {
  const wire = await wireOrder({ maxHighBeforeLow: 2 }, ({ queues }) => {
    for (let n = 1; n <= 3; n++) queues.tryPush(low(n), "low", true);
    for (let n = 1; n <= 7; n++) queues.tryPush(high(n), "high", true);
  });
  assert.deepEqual(wire, ["r0", "h1", "h2", "l1", "h3", "h4", "l2", "h5", "h6", "l3", "h7"]);
});

test("fairness: the default bound is 8 consecutive highs", async () => {
  const wire = await wireOrder({}, ({ queues }) => {
    queues.tryPush(low(1), "low", true);
    for (let n = 1; n <= 10; n++) queues.tryPush(high(n), "high", true);
  });
  assert.deepEqual(wire.slice(1), [
    ...[1, 2, 3, 4, 5, 6, 7, 8].map((n) => `h${n}`),
    "l1",
    "h9",
    "h10",
  ]);
});

test("maxHighBeforeLow 0 is strict priority: a low waits for every high", async () => {
  const wire = await wireOrder({ maxHighBeforeLow: 0, highCapacity: 32 }, ({ queues }) => {
    queues.tryPush(low(1), "low", true);
    for (let n = 1; n <= 20; n++) queues.tryPush(high(n), "high", true);
  });
  assert.deepEqual(wire, ["r0", ...Array.from({ length: 20 }, (_, i) => `h${i + 1}`), "l1"]);
});

test("time slice: a waiting low goes once the high streak has lasted timeSliceMs (injected clock)", async () => {
  // Every frame the actor chooses "takes" 3 ms of the fake clock.
  let now = 0;
  const tuning = (timeSliceMs: number) => ({
    maxHighBeforeLow: 0,
    timeSliceMs,
    clock: () => now,
    onChoose: () => void (now += 3),
  });
  const queue = ({ queues }: ReturnType<typeof makeActor>) => {
    for (let n = 1; n <= 5; n++) queues.tryPush(high(n), "high", true);
    queues.tryPush(low(99), "low", true);
  };
  assert.deepEqual(await wireOrder(tuning(5), queue), ["r0", "h1", "h2", "l99", "h3", "h4", "h5"]);
  now = 0;
  assert.deepEqual(
    await wireOrder(tuning(1_000), queue),
    ["r0", "h1", "h2", "h3", "h4", "h5", "l99"],
    "a slice that never runs out is strict priority",
  );
});

test("without a time slice the actor never reads its clock, however many highs it sends", async () => {
  let reads = 0;
  const wire = await wireOrder({ maxHighBeforeLow: 2, clock: () => ++reads }, ({ queues }) => {
    for (let n = 1; n <= 4; n++) queues.tryPush(high(n), "high", true);
    queues.tryPush(low(1), "low", true);
  });
  assert.deepEqual(wire, ["r0", "h1", "h2", "l1", "h3", "h4"]);
  assert.equal(reads, 0);
});

test("the count bound and the time slice combine: whichever comes first lets a low go", async () => {
  let now = 0;
  const wire = await wireOrder({
    maxHighBeforeLow: 3,
    timeSliceMs: 1_000,
    clock: () => now,
    onChoose: () => void (now += 1),
  }, ({ queues }) => {
    for (let n = 1; n <= 4; n++) queues.tryPush(high(n), "high", true);
    queues.tryPush(low(1), "low", true);
  });
  assert.deepEqual(wire, ["r0", "h1", "h2", "h3", "l1", "h4"]);
});

test("a long response stream never delays a high push by more than one frame", async () => {
  // Pushes arrive from "outside": while the sink is writing, and between the
  // producer's frames. At each push we note how many frames the actor had chosen;
  // afterwards at most one response frame may be chosen between that point and the push.
  await fc.assert(
    fc.asyncProperty(
      fc.uniqueArray(fc.integer({ min: 0, max: 59 }), { maxLength: 12 }),
      fc.uniqueArray(fc.integer({ min: 1, max: 40 }), { maxLength: 8 }),
      fc.integer({ min: 1, max: 64 }),
      async (atFrames, atWrites, highWaterMark) => {
        const marks = new Map<string, number>();
        let pushed = 0;
        let writes = 0;
        const pushHigh = () => {
          const n = ++pushed;
          marks.set(`h${n}`, rig.chosen.length);
          assert.equal(rig.queues.tryPush(high(n), "high", true), "queued");
        };
        const sink = new GatedSink(true, () => {
          if (atWrites.includes(++writes)) pushHigh();
          return Promise.resolve();
        });
        const rig = makeActor({ sink, highWaterMark, highCapacity: 64 });
        for (let i = 0; i < 60; i++) {
          if (atFrames.includes(i)) pushHigh();
          const wait = rig.actor.offerResponse(response(i));
          if (wait) await wait;
        }
        await deadline(rig.actor.idle(), "actor idle");
        await deadline(rig.writer.flush(), "flush");
        const wire = sink.wire();
        assert.deepEqual(
          wire.filter((t) => t.startsWith("r")),
          Array.from({ length: 60 }, (_, i) => `r${i}`),
        );
        assert.equal(wire.filter((t) => t.startsWith("h")).length, pushed);
        for (const [tag, mark] of marks) {
          const at = rig.chosen.indexOf(tag);
          const responsesBetween = rig.chosen.slice(mark, at).filter((t) => t.startsWith("r"));
          assert.ok(
            responsesBetween.length <= 1,
            `${tag} waited behind ${responsesBetween.join(",")} (chosen: ${rig.chosen.join(",")})`,
          );
        }
      },
    ),
    { numRuns: 60 },
  );
});

test("back-to-back pushes of one priority, not awaited, go out in call order", async () => {
  for (const rate of [undefined, new TokenBucket(0.001, 10, () => 0)]) {
    const rig = makeActor({ highWaterMark: 1_000_000, rate });
    const handle = new PushHandle(rig.queues);
    const pending = [
      handle.push(high(1)),
      Promise.resolve(handle.tryPush(high(2))),
      handle.pushWithPolicy(high(3), { policy: "drop-if-full" }),
      Promise.resolve(handle.tryPush(high(4))),
      handle.push(high(5)),
    ];
    await deadline(Promise.all(pending), "pushes");
    assert.deepEqual(
      rig.chosen,
      ["h1", "h2", "h3", "h4", "h5"],
      `rate limit: ${rate !== undefined}`,
    );
  }
});
