import assert from "node:assert/strict";
import { MissingTemplateVariableError, placeholders, renderMail } from "./render.ts";

const template = {
  subject: "Hi {{name}}",
  text: "Hello {{name}}, {{ amount }}",
  html: "<p>Hello {{name}}</p>",
};

Deno.test("given variables, when rendered, then placeholders are filled", () => {
  assert.deepEqual(renderMail(template, { name: "Ann", amount: "1.00 USD" }), {
    subject: "Hi Ann",
    text: "Hello Ann, 1.00 USD",
    html: "<p>Hello Ann</p>",
  });
});

Deno.test("given user-supplied markup, when rendered, then the HTML escapes it and the text keeps it", () => {
  const mail = renderMail(template, { name: `<script>alert("x")</script>&'`, amount: "1" });
  assert.equal(mail.html, "<p>Hello &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;</p>");
  assert.equal(mail.text, `Hello <script>alert("x")</script>&', 1`);
});

Deno.test("given a missing variable, when rendered, then it is an error naming it", () => {
  assert.throws(
    () => renderMail(template, { name: "Ann" }),
    (e) => e instanceof MissingTemplateVariableError && e.variable === "amount",
  );
  assert.throws(() => renderMail(template, { name: null, amount: "1" }), MissingTemplateVariableError);
});

Deno.test("given a line break in a variable, when it lands in the subject, then the subject stays one line", () => {
  assert.equal(
    renderMail(template, { name: "a\r\nBcc: x@example.test", amount: "1" }).subject,
    "Hi a Bcc: x@example.test",
  );
});

Deno.test("placeholders lists every variable a template names", () => {
  assert.deepEqual(placeholders(template).sort(), ["amount", "name"]);
});
