import type { MultimodalConfig } from "../schema/config.ts";
import type { ApiRequest } from "./client.ts";

/**
 * The multimodal requests of tokenhub-api.md, as calls to the configured origin. Only the request shapes live
 * here; what the answers mean is `classify-media`'s, and when to poll is `machine/policy`'s.
 */
type Call = Omit<ApiRequest, "key" | "signal" | "timeoutMs">;

/** The quickstart's image probe, `{model, prompt, size}`, as the page writes it. */
export function imageGeneration(image: MultimodalConfig["image"], model: string): Call {
  return {
    method: "POST",
    path: "images/generations",
    body: { model, prompt: image.prompt, size: image.size },
  };
}

/**
 * Creates the task in the configured protocol: the quickstart's plain `{model, prompt}`, DashScope's (async by
 * header), or OpenAI-style.
 */
export function videoCreation(video: MultimodalConfig["video"], model: string): Call {
  if (video.protocol === "quickstart") {
    return { method: "POST", path: "video/generations", body: { model, prompt: video.prompt } };
  }
  if (video.protocol === "dashscope") {
    return {
      method: "POST",
      path: "video/generations",
      headers: { "X-DashScope-Async": "enable" },
      body: {
        model,
        input: { prompt: video.prompt },
        parameters: { duration: video.durationS, prompt_extend: false, watermark: false },
      },
    };
  }
  return {
    method: "POST",
    path: "video/generations",
    body: { model, prompt: video.prompt, duration: video.durationS },
  };
}

/** `GET /v1/video/tasks/{task_id}?model=<same model>`; the id is a checked token, encoded all the same. */
export function videoTaskPoll(taskId: string, model: string): Call {
  return { method: "GET", path: `video/tasks/${encodeURIComponent(taskId)}`, query: { model } };
}
