// The one Redis client: Upstash's REST client, pointed by UPSTASH_REDIS_REST_URL/_TOKEN at real Upstash
// in production and at the local Upstash-compatible endpoint (devstack/upstash_proxy.ts) locally.
// Its transport merges concurrent pipelines of this isolate into one request (pipeline_batcher.ts).
import { Redis, type RedisConfigNodejs } from "@upstash/redis";
import { PipelineBatcher, type PipelineBatcherOptions } from "./pipeline_batcher.ts";

const BATCHING: PipelineBatcherOptions = {
  // Four merged requests under way at most: while they are answered the next ones fill up (measured: README, Benchmarks).
  maxInFlight: Number(Deno.env.get("REDIS_PIPELINE_MAX_IN_FLIGHT") ?? 4),
  maxCommands: 1000,
};

/** @upstash/redis with its own HttpClient wrapped in a PipelineBatcher; auto-pipelining stays on. */
export class BatchedRedis extends Redis {
  readonly batcher: PipelineBatcher;

  constructor(config: RedisConfigNodejs, batching: PipelineBatcherOptions = BATCHING) {
    // The constructor answers the auto-pipelining proxy, so `this` below is that proxy: assigning the
    // client goes through to the instance, whose pipelines read `this.client` when they are created.
    super(config);
    this.batcher = new PipelineBatcher(this.client, batching);
    this.client = this.batcher;
  }
}

let shared: BatchedRedis | undefined;

export function redis(): BatchedRedis {
  // Created at module lifetime so @upstash/ratelimit's ephemeral cache survives across requests.
  shared ??= new BatchedRedis({
    url: Deno.env.get("UPSTASH_REDIS_REST_URL") ?? "",
    token: Deno.env.get("UPSTASH_REDIS_REST_TOKEN") ?? "",
    retry: { retries: 0 },
  });
  return shared;
}
