// Locally, what pg_cron + pg_net do in production: call the email function's drain route on a timer
// (every MAIL_DRAIN_INTERVAL_MS, default 1000), the same HTTP request production makes.
const url = `${Deno.env.get("API_URL") ?? "http://127.0.0.1:54321"}/functions/v1/email/drain`;
const secret = Deno.env.get("EMAIL_DRAIN_SECRET") ?? "local-drain-secret";
const intervalMs = Number(Deno.env.get("MAIL_DRAIN_INTERVAL_MS") ?? 1000);

console.log(`draining the outbox through ${url} every ${intervalMs} ms`);
while (true) {
  try {
    const response = await fetch(url, { method: "POST", headers: { authorization: `Bearer ${secret}` } });
    const body = await response.text();
    if (!response.ok) console.error(`drain answered ${response.status}: ${body}`);
    else if (!body.includes('"claimed":0')) console.log(body);
  } catch (error) {
    console.error(`drain failed: ${error instanceof Error ? error.message : error}`);
  }
  await new Promise((resolve) => setTimeout(resolve, intervalMs));
}
