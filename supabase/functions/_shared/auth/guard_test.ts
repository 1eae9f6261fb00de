// userRoute's ordering: a user GET reads while its limits are checked and a refusal still wins; any
// other method (and every admin route) runs only after both limits let it through. The limiters here
// are hand-held (their answers released by the test) to observe order; the real ones are tested in
// ratelimit_test.ts and through the gateway.
import assert from "node:assert/strict";
import type { Context } from "../http/app.ts";
import { Problem, problems } from "../http/problem.ts";
import type { Limiter, LimitHeaders } from "../http/ratelimit.ts";
import type { Sql } from "../infra/db.ts";
import type { TokenConfig } from "./config.ts";
import { type UserGuard, userRoute } from "./guard.ts";
import { signAccessToken } from "./jwt.ts";

const tokens: TokenConfig = {
  jwtSecret: "guard-test-secret-at-least-32-characters-long",
  jwtAudience: "authenticated",
  jwtIssuer: "guard-test",
  accessTokenTtlSeconds: 900,
  refreshTokenTtlSeconds: 3600,
};

/** A limiter whose every check waits until the test says allow() or refuse(). */
function heldLimiter(name: string) {
  let release: (outcome: "allow" | "refuse") => void = () => {};
  const decided = new Promise<"allow" | "refuse">((resolve) => (release = resolve));
  const limiter: Limiter = {
    name,
    async check(): Promise<LimitHeaders> {
      if ((await decided) === "refuse") throw problems.rateLimited({ "Retry-After": "1" });
      return { "RateLimit-Limit": "10", "RateLimit-Remaining": "9", "RateLimit-Reset": "60" };
    },
    refund: () => Promise.resolve(),
  };
  return { limiter, allow: () => release("allow"), refuse: () => release("refuse") };
}

async function setup(method: string) {
  const ip = heldLimiter("ip");
  const user = heldLimiter("user");
  const guard: UserGuard = {
    sql: () => ({}) as unknown as Sql,
    apiPerIp: ip.limiter,
    apiPerUser: user.limiter,
    tokens,
    ip: { header: "x-forwarded-for", hop: 1 },
    now: () => new Date(),
  };
  const token = await signAccessToken(
    { userId: crypto.randomUUID(), role: "user", sessionId: crypto.randomUUID() },
    tokens,
    new Date(),
  );
  const req = new Request("http://local/me", {
    method,
    headers: { authorization: `Bearer ${token}`, "x-forwarded-for": "192.0.2.1" },
  });
  const ctx: Context = { req, url: new URL(req.url), params: {}, requestId: "guard-test-1" };
  return { guard, ctx, ip, user };
}

/** userRoute's handler, always as a promise. */
function route(...args: Parameters<typeof userRoute>) {
  const handler = userRoute(...args);
  return (ctx: Context) => Promise.resolve(handler(ctx));
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

Deno.test("a user GET reads while its limits are checked, and answers once they allow it", async () => {
  const { guard, ctx, ip, user } = await setup("GET");
  let ran = 0;
  const answer = route(guard, () => (ran++, new Response("read")))(ctx);
  // The limits stay held until this test releases them; the read only has to get past the token check
  // (WebCrypto, answered from another thread), which can take more than one turn of the loop.
  for (let turns = 0; ran === 0 && turns < 1000; turns++) await tick();
  assert.equal(ran, 1, "the read started before the limits answered");
  ip.allow();
  user.allow();
  const response = await answer;
  assert.equal(await response.text(), "read");
  assert.equal(response.headers.get("RateLimit-Remaining"), "9");
});

Deno.test("a user GET refused by a limit answers 429, not what it read", async () => {
  const { guard, ctx, ip, user } = await setup("GET");
  const answer = route(guard, () => new Response("read"))(ctx);
  ip.allow();
  user.refuse();
  await assert.rejects(answer, (error: unknown) => error instanceof Problem && error.status === 429);
});

Deno.test("a user GET whose read fails while a limit refuses answers 429", async () => {
  const { guard, ctx, ip, user } = await setup("GET");
  const answer = route(guard, () => Promise.reject(new Error("read failed")))(ctx);
  await tick();
  ip.refuse();
  user.allow();
  await assert.rejects(answer, (error: unknown) => error instanceof Problem && error.status === 429);
});

for (const method of ["POST", "PUT"]) {
  Deno.test(`a user ${method} runs only after both limits allow it, never when one refuses`, async () => {
    const allowed = await setup(method);
    let ran = 0;
    const answer = route(allowed.guard, () => (ran++, new Response(null, { status: 204 })))(allowed.ctx);
    await tick();
    allowed.ip.allow();
    await tick();
    assert.equal(ran, 0, "nothing ran before both limits answered");
    allowed.user.allow();
    assert.equal((await answer).status, 204);
    assert.equal(ran, 1);

    const refused = await setup(method);
    const refusedAnswer = route(refused.guard, () => (ran++, new Response(null, { status: 204 })))(
      refused.ctx,
    );
    refused.ip.allow();
    refused.user.refuse();
    await assert.rejects(refusedAnswer, (error: unknown) => error instanceof Problem && error.status === 429);
    assert.equal(ran, 1, "the refused request changed nothing");
  });
}
