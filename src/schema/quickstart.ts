/**
 * The values this package takes word for word from TokenHub's agent quickstart (../shared/quickstart.md): one
 * home, free of zod so the CLI's `--help` can name them without loading a validator. The conformance test
 * (test/conformance/quickstart.test.ts) reads the page and compares it with what the code sends and writes.
 */

/** Step-1: where the key is read from. */
export const ENV_VAR = "TOKENHUB_API_KEY";

/** Section 1: the automation contract. */
export const CONTRACT = {
  baseUrl: "https://tokenhub.link/v1",
  /** The model formats, in the order the flow tries them (the plan model has no published name). */
  modelFormats: ["deepseek-v3.2", "alibaba/deepseek-v3.2"],
} as const;

/** Section 3: the minimal viable request's body, less the model. */
export const PROBE = {
  prompt: "Reply with OK only.",
  maxTokens: 32,
  temperature: 0,
} as const;

/** Section 5: the multimodal probes. */
export const MEDIA = {
  image: { model: "wanx2.1-t2i-turbo", size: "1024*1024", prompt: "A futuristic city skyline at sunrise" },
  video: { model: "wan2.6-t2v", prompt: "A robot walking in the rain, cinematic shot" },
} as const;

/** Section 7: the completion template's fixed values. */
export const TEMPLATE = {
  success: "success",
  providerMode: "platform-routing",
  endpoint: "POST /v1/chat/completions",
  readyNote: "TokenHub API is ready for production wiring.",
} as const;

/**
 * How a video task is created: the quickstart's plain `{model, prompt}` (the default); DashScope's async
 * protocol (`X-DashScope-Async: enable`, `{model, input, parameters}`); or OpenAI-style `{model, prompt,
 * duration}` (both in tokenhub-api.md). The answers are read in both vocabularies whichever was sent.
 */
export const VIDEO_PROTOCOLS = ["quickstart", "dashscope", "openai"] as const;
