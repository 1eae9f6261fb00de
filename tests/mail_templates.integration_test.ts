// Every template in notify.templates renders with sample variables of its kind, and its HTML escapes
// user-supplied text. A new kind or template without samples here fails this test.
import assert from "node:assert/strict";
import { placeholders, renderMail } from "../supabase/functions/_shared/domain/notify/render.ts";
import { testSql } from "./support.ts";

const XSS = `<script>alert("pwned")</script>`;
const common = { appUrl: "https://app.example.test", unsubscribeUrl: "https://api.example.test/u?token=t" };
const samples: Record<string, Record<string, string | number>> = {
  purchase_receipt: {
    packageName: XSS,
    amount: "100.00 USD",
    purchaseId: "p1",
    startsAt: "2026-12-01 10:00 UTC",
    endsAt: "2026-12-31 10:00 UTC",
  },
  kyc_approved: {},
  kyc_rejected: { reason: XSS, nextStep: "You may submit new documents in the app." },
  kyc_resubmission_requested: { reason: XSS },
  withdrawal_requested: { amount: "10.00 USD", withdrawalId: "w1" },
  withdrawal_rejected: { amount: "10.00 USD", withdrawalId: "w1" },
  withdrawal_paid: { amount: "10.00 USD", withdrawalId: "w1", paymentReference: XSS },
  password_reset: { token: "tok" },
  email_verification: { token: "tok" },
  password_changed: {},
  commission_digest: { count: 3, amount: "8.00 USD", day: "2026-12-01" },
  admin_alert: { severity: "critical", title: XSS, state: "fired", detail: XSS },
};

Deno.test("every mail template renders with sample variables and escapes user text in HTML", async () => {
  const sql = testSql(1);
  try {
    const templates = await sql<
      { kind: string; locale: string; subject: string; text_body: string; html_body: string }[]
    >`
      select k.kind, t.locale, t.subject, t.text_body, t.html_body
      from notify.kinds k left join notify.templates t on t.kind = k.kind order by k.kind, t.locale`;
    assert.ok(templates.length >= Object.keys(samples).length);
    for (const t of templates) {
      assert.ok(t.subject, `kind ${t.kind} has a template`);
      const vars = samples[t.kind];
      assert.ok(vars, `sample variables for kind ${t.kind}`);
      const template = { subject: t.subject, text: t.text_body, html: t.html_body };
      const mail = renderMail(template, { ...common, ...vars });
      assert.ok(!mail.html.includes("<script>"), `${t.kind}/${t.locale} escapes HTML`);
      if (placeholders(template).some((p) => vars[p] === XSS)) {
        assert.ok(mail.html.includes("&lt;script&gt;"));
      }
      for (const token of ["token"]) {
        if (token in vars) assert.match(mail.text, /\?token=tok/, `${t.kind} links carry ?token=`);
      }
    }
  } finally {
    await sql.end();
  }
});
