import type { AssembledStream } from "./sse.ts";

/**
 * What one call to TokenHub came back as, before Step-4 gives it a meaning: the client produces it (client.ts),
 * classification reads it (classify.ts, classify-media.ts). A home of its own, so neither imports the other.
 */

export type ResponseBody =
  | { kind: "json"; value: unknown }
  | { kind: "text"; text: string }
  | { kind: "malformed"; reason: string; text: string }
  | { kind: "empty" }
  | AssembledStream;

/** One attempt's raw result. Holds no request header. */
export type ProbeResponse =
  | {
      type: "response";
      status: number;
      headers: Record<string, string>;
      body: ResponseBody;
      latencyMs: number;
    }
  | {
      type: "overflow";
      status: number;
      headers: Record<string, string>;
      limitBytes: number;
      latencyMs: number;
    }
  | {
      type: "transport";
      code: string;
      message: string;
      phase: "connect" | "headers" | "body";
      latencyMs: number;
    };
