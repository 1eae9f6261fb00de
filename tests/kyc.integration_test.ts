// KYC through the real gateway: a user submits documents, an admin opens a case and its document link
// (served by the kyc function from the local folder storage), decides, and the user sees the result.
import assert from "node:assert/strict";
import {
  defaultStorageRoot,
  LocalFolderStorage,
} from "../supabase/functions/_shared/infra/document_storage/local_folder_storage.ts";
import { newUser, PNG } from "../supabase/functions/kyc/kyc_test_support.ts";
import { fn, testSql } from "./support.ts";

Deno.test("KYC through the gateway: submit, review with a document link, approve", async () => {
  const sql = testSql(2);
  const user = await newUser(sql);
  const admin = await newUser(sql, { admin: true });
  let caseId: string | undefined;
  try {
    const form = new FormData();
    form.append("fullName", "Gateway Tester");
    form.append("dateOfBirth", "1985-01-31");
    form.append("country", "NL");
    form.append("document", new Blob([PNG]), "id.png");
    const auth = (token: string) => ({ authorization: `Bearer ${token}` });
    const submitted = await fetch(fn("kyc"), { method: "POST", body: form, headers: auth(user.token) });
    assert.equal(submitted.status, 202, await submitted.clone().text());
    caseId = (await submitted.json()).caseId;
    const again = await fetch(fn("kyc"), { method: "POST", body: form, headers: auth(user.token) });
    assert.equal(again.status, 409);
    assert.equal((await again.json()).code, "kyc_pending");

    const notAdmin = await fetch(fn(`admin/kyc/${caseId}`), { headers: auth(user.token) });
    assert.equal(notAdmin.status, 403);
    await notAdmin.body?.cancel();
    const shown = await fetch(fn(`admin/kyc/${caseId}`), { headers: auth(admin.token) });
    assert.equal(shown.status, 200);
    const detail = await shown.json();
    const link = await fetch(detail.documents[0].url);
    assert.equal(link.status, 200);
    assert.equal(link.headers.get("content-type"), "image/png");
    assert.deepEqual(new Uint8Array(await link.arrayBuffer()), PNG);
    // Change the signature's first character to a different one (a fixed replacement is a no-op 1 time in 64).
    const tampered = await fetch(
      detail.documents[0].url.replace(
        /signature=(.)/,
        (_: string, c: string) => `signature=${c === "_" ? "A" : "_"}`,
      ),
    );
    assert.equal(tampered.status, 404);
    await tampered.body?.cancel();

    const decided = await fetch(fn(`admin/kyc/${caseId}/decision`), {
      method: "POST",
      headers: { ...auth(admin.token), "content-type": "application/json" },
      body: JSON.stringify({ decision: "approve" }),
    });
    assert.equal(decided.status, 200);
    await decided.body?.cancel();
    const mine = await fetch(fn("kyc"), { headers: auth(user.token) });
    assert.deepEqual(await mine.json(), { status: "approved", canResubmit: false });
  } finally {
    // Erase what this test stored (the local stack's folder is shared with people using it).
    if (caseId) {
      const [row] = await sql<{ keys: string[] }[]>`select private.erase_kyc_case(${caseId}) as keys`;
      const storage = new LocalFolderStorage({
        root: Deno.env.get("KYC_STORAGE_DIR") ?? defaultStorageRoot(),
        linkBaseUrl: "",
        secret: "x",
      });
      await storage.remove(row!.keys);
    }
    await sql.end();
  }
});

Deno.test("a document link we did not sign is 404 through the gateway", async () => {
  const expired = fn(
    `kyc/documents/${crypto.randomUUID()}/${crypto.randomUUID()}/${crypto.randomUUID()}.png?expires=1&signature=${
      "A".repeat(43)
    }`,
  );
  const res = await fetch(expired);
  assert.equal(res.status, 404);
  await res.body?.cancel();
});
