// ./dev mail [address]: the latest mails in the local inbox (devstack/local_mail.ts), with their links.
const base = `http://127.0.0.1:${Deno.env.get("MAIL_PORT") ?? 54324}`;
const to = Deno.args[0];
const query = new URLSearchParams({ limit: "10", ...(to ? { to } : {}) });
const response = await fetch(`${base}/api/messages?${query}`);
if (!response.ok) throw new Error(`the local inbox answered ${response.status}`);
const messages = await response.json() as {
  to: string[];
  subject: string;
  createdAt: string;
  links: string[];
}[];
if (messages.length === 0) console.log(to ? `no mail to ${to}` : "the inbox is empty");
for (const m of messages) {
  console.log(`${m.createdAt}  to ${m.to.join(", ")}\n  ${m.subject}`);
  for (const link of m.links) console.log(`  ${link}`);
}
console.log(`(all of it: ${base}/)`);
