// Token configuration, read from the environment by small functions so tests can build their own.
// JWT_SECRET is the Supabase project's JWT secret (Settings → API → JWT secret; the "legacy" HS256
// secret on projects with signing keys): the same secret lets PostgREST trust our tokens for RLS.

export type TokenConfig = {
  jwtSecret: string;
  /** Supabase's PostgREST expects "authenticated". */
  jwtAudience: string;
  jwtIssuer: string;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
};

const JWT_SECRET_LENGTH_MIN = 32;

export function tokenConfigFromEnv(
  env: (name: string) => string | undefined = (n) => Deno.env.get(n),
): TokenConfig {
  const jwtSecret = env("JWT_SECRET") ?? env("SUPABASE_JWT_SECRET");
  if (!jwtSecret || jwtSecret.length < JWT_SECRET_LENGTH_MIN) {
    throw new Error(`Set JWT_SECRET (at least ${JWT_SECRET_LENGTH_MIN} characters).`);
  }
  return {
    jwtSecret,
    jwtAudience: env("JWT_AUDIENCE") ?? "authenticated",
    jwtIssuer: env("JWT_ISSUER") ?? "accrue",
    accessTokenTtlSeconds: positiveInt(env("ACCESS_TOKEN_TTL_SECONDS"), 15 * 60),
    refreshTokenTtlSeconds: positiveInt(env("REFRESH_TOKEN_TTL_SECONDS"), 30 * 24 * 3600),
  };
}

export function positiveInt(raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`expected a positive integer, got ${raw}`);
  return value;
}
