import assert from "node:assert/strict";
import { Problem } from "../_shared/http/problem.ts";
import { UploadBudget } from "./upload_budget.ts";

const busy = (error: unknown) => {
  assert.ok(error instanceof Problem);
  assert.equal(error.status, 503);
  assert.equal(error.code, "unavailable");
  assert.equal(error.extra.headers?.["Retry-After"], "5");
  return true;
};

Deno.test("reservations within the budget go ahead; the next one waits until room is given back", async () => {
  const budget = new UploadBudget({ memoryBytesMax: 10, queuedMax: 4, queueWaitMs: 60_000 });
  const first = await budget.reserve(6);
  const second = await budget.reserve(4);
  assert.equal(budget.reservedBytes, 10);
  let admitted = false;
  const third = budget.reserve(5).then((release) => {
    admitted = true;
    return release;
  });
  await Promise.resolve();
  assert.equal(admitted, false);
  first();
  first(); // giving back twice gives back once
  (await third)();
  assert.equal(admitted, true);
  second();
  assert.equal(budget.reservedBytes, 0);
});

Deno.test("first come, first served: a small upload does not overtake a large one that waits", async () => {
  const budget = new UploadBudget({ memoryBytesMax: 10, queuedMax: 4, queueWaitMs: 60_000 });
  const holder = await budget.reserve(6);
  const order: string[] = [];
  const large = budget.reserve(8).then((release) => (order.push("large"), release));
  const small = budget.reserve(2).then((release) => (order.push("small"), release));
  await Promise.resolve();
  assert.deepEqual(order, [], "the small one fits, but waits behind the large one");
  holder();
  const releases = await Promise.all([large, small]);
  assert.deepEqual(order, ["large", "small"]);
  assert.equal(budget.reservedBytes, 10);
  releases.forEach((release) => release());
});

Deno.test("a full queue is refused at once with 503 and Retry-After", async () => {
  const budget = new UploadBudget({ memoryBytesMax: 10, queuedMax: 1, queueWaitMs: 60_000 });
  const holder = await budget.reserve(10);
  const waiting = budget.reserve(1);
  await assert.rejects(budget.reserve(1), busy);
  holder();
  (await waiting)();
  assert.equal(budget.reservedBytes, 0);
});

Deno.test("a wait past the queue's patience is 503, and those behind it move up", async () => {
  const budget = new UploadBudget({ memoryBytesMax: 10, queuedMax: 4, queueWaitMs: 1 });
  const holder = await budget.reserve(7);
  await assert.rejects(budget.reserve(10), busy);
  assert.equal(budget.reservedBytes, 7, "the refused one reserved nothing");
  (await budget.reserve(3))();
  holder();
});
