/** The deployed version, shown by the health check. Set APP_VERSION at deploy time to a commit id. */
export const VERSION = Deno.env.get("APP_VERSION") ?? "0.1.0";
