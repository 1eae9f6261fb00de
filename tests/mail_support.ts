// Reading the local inbox (devstack/local_mail.ts) from tests that go through the gateway.
import { fn } from "./support.ts";

export const MAIL_URL = `http://127.0.0.1:${Deno.env.get("MAIL_PORT") ?? 54324}`;
const DRAIN_SECRET = Deno.env.get("EMAIL_DRAIN_SECRET") ?? "local-drain-secret";

export type InboxMail = {
  to: string[];
  subject: string;
  text: string;
  headers: Record<string, string>;
  links: string[];
};

/** Ask the email function to drain (as the timer does), then read the address's mails, latest first. */
export async function inbox(address: string): Promise<InboxMail[]> {
  const drained = await fetch(fn("email/drain"), {
    method: "POST",
    headers: { authorization: `Bearer ${DRAIN_SECRET}` },
  });
  await drained.body?.cancel();
  const res = await fetch(`${MAIL_URL}/api/messages?to=${encodeURIComponent(address)}&limit=100`);
  return await res.json();
}

/** The latest mail to the address whose subject matches, waiting while a drainer may still be sending it
 * (the stack's timer can hold the row when our drain runs). */
export async function waitForMail(address: string, subject: RegExp, count = 1): Promise<InboxMail> {
  for (let i = 0; i < 100; i++) {
    const found = (await inbox(address)).filter((m) => subject.test(m.subject));
    if (found.length >= count) return found[0]!;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no mail "${subject}" to ${address}`);
}

/** The `token` query parameter of the mail's first link that has one. */
export function tokenOf(mail: InboxMail): string {
  for (const link of mail.links) {
    const token = new URL(link).searchParams.get("token");
    if (token) return token;
  }
  throw new Error(`no token link in "${mail.subject}"`);
}
