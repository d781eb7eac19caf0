import { z } from "zod";

/**
 * TokenHub's image and video bodies (tokenhub-api.md, "Images" and "Video"). Loose objects: the gateway passes
 * providers' fields through, and only the fields the check needs are named. Statuses are read as strings and
 * mapped by `tokenhub/classify-media`, so an unknown status is a reported fact, not a parse failure.
 */

/**
 * A task id the skill accepts: it goes into the poll's URL path (and into snapshots), so only a plain token,
 * never `.` or `..`, can come back from the server or a stored snapshot and steer a request.
 */
export const TASK_ID_PATTERN = /^(?!\.{1,2}$)[A-Za-z0-9._:-]{1,200}$/;

/** DashScope pass-through (Wan models): `output.choices[].message.content[].image` holds a URL. */
export const DashScopeImageBodySchema = z.looseObject({
  output: z.looseObject({
    choices: z.array(
      z.looseObject({
        message: z.looseObject({
          content: z.array(z.looseObject({ image: z.string().optional() })),
        }),
      }),
    ),
  }),
  request_id: z.string().optional(),
});

/** OpenAI style: `data[].b64_json` (the default) or `data[].url` (`response_format: "url"`). */
export const OpenAIImageBodySchema = z.looseObject({
  data: z.array(z.looseObject({ url: z.string().optional(), b64_json: z.string().optional() })),
});

/** DashScope async task: create and poll answer `output.task_id` and `output.task_status`. */
export const DashScopeTaskBodySchema = z.looseObject({
  output: z.looseObject({
    task_id: z.string().min(1).optional(),
    task_status: z.string().min(1),
    video_url: z.string().optional(),
    code: z.string().optional(),
    message: z.string().optional(),
  }),
  request_id: z.string().optional(),
});

/** OpenAI-style video task: `{id, object: "video.generation.task", status}`; the URL field is inferred. */
export const OpenAITaskBodySchema = z.looseObject({
  id: z.string().min(1),
  status: z.string().min(1),
  video_url: z.string().optional(),
  url: z.string().optional(),
  output: z.looseObject({ video_url: z.string().optional(), url: z.string().optional() }).optional(),
  data: z.array(z.looseObject({ url: z.string().optional() })).optional(),
  error: z
    .union([
      z.looseObject({ code: z.union([z.string(), z.number()]).nullish(), message: z.string().nullish() }),
      z.string(),
    ])
    .nullish(),
});
