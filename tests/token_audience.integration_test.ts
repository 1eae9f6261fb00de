// The audience check through the gateway (the unit test in _shared/auth/jwt_test.ts guards it too): a
// token signed with the project's secret and issuer, for a real user and session, is refused when its
// audience is not JWT_AUDIENCE, and the same token with the right audience is accepted, so the refusal
// is for the audience and nothing else. Supabase signs anon and service tokens with the same secret.
import assert from "node:assert/strict";
import { signAccessToken } from "../supabase/functions/_shared/auth/jwt.ts";
import { TEST_TOKENS } from "../supabase/functions/auth/handler_test_support.ts";
import { fetchFrom, fn, loopbackIp } from "./support.ts";

const ip = loopbackIp();

async function me(token: string) {
  const res = await fetchFrom(ip, fn("auth/me"), { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: await res.json() };
}

Deno.test("an access token for another audience is refused at the gateway; the same for ours is not", async () => {
  const signup = await fetchFrom(ip, fn("auth/signup"), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      email: `aud-${crypto.randomUUID()}@example.com`,
      password: "correct horse battery",
    }),
  });
  assert.equal(signup.status, 201);
  const { accessToken, user } = await signup.json();
  const { session_id: sessionId } = JSON.parse(
    atob(accessToken.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")),
  );
  const claims = { userId: user.id, role: "user" as const, sessionId };
  const now = new Date();

  const ours = await me(await signAccessToken(claims, TEST_TOKENS, now));
  assert.equal(ours.status, 200, JSON.stringify(ours.body));
  assert.equal(ours.body.id, user.id);
  for (const audience of ["anon", "service_role", "authenticated-but-not"]) {
    const theirs = await me(await signAccessToken(claims, { ...TEST_TOKENS, jwtAudience: audience }, now));
    assert.equal(theirs.status, 401, audience);
    assert.equal(theirs.body.code, "unauthenticated", audience);
  }
});
