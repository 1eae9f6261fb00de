// The one Redis client: Upstash's REST client, pointed by UPSTASH_REDIS_REST_URL/_TOKEN at real Upstash
// in production and at the local Upstash-compatible endpoint (devstack/upstash_proxy.ts) locally.
import { Redis } from "@upstash/redis";

let shared: Redis | undefined;

export function redis(): Redis {
  // Created at module lifetime so @upstash/ratelimit's ephemeral cache survives across requests.
  shared ??= Redis.fromEnv({ retry: { retries: 0 } });
  return shared;
}
