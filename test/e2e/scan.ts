// What the OpenClaw e2e suites share besides the host (openclaw-host.ts): a free loopback port, every file under
// a folder, the texts inside OpenClaw's sqlite stores (for the key scans), and the host config whose agent model
// is the scripted mock model.
import { readdir } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { zstdDecompressSync } from "node:zlib";

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(join(entry.parentPath, entry.name));
  }
  return out;
}

const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);

/** Every blob and text in a sqlite database (read-only), zstd frames decompressed, labelled file#table. */
export function sqliteTexts(file: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{
      name: string;
    }>;
    for (const { name } of tables) {
      for (const row of db.prepare(`SELECT * FROM "${name.replaceAll('"', '""')}"`).all()) {
        for (const value of Object.values(row)) {
          if (typeof value === "string") out.push([`${file}#${name}`, value]);
          if (!(value instanceof Uint8Array)) continue;
          const bytes = Buffer.from(value);
          out.push([`${file}#${name}`, bytes.toString("latin1")]);
          if (bytes.subarray(0, 4).equals(ZSTD_MAGIC))
            out.push([`${file}#${name} (zstd)`, zstdDecompressSync(bytes).toString("latin1")]);
        }
      }
    }
  } finally {
    db.close();
  }
  return out;
}

/** OpenClaw's config for a headless gateway on `port` whose agents run on the mock model at `modelUrl`. */
export function mockModelHostConfig(modelUrl: string, port: number): Record<string, unknown> {
  return {
    gateway: { mode: "local", bind: "loopback", port },
    models: {
      providers: {
        mock: {
          baseUrl: modelUrl,
          api: "openai-completions",
          apiKey: "mock-model-key",
          models: [{ id: "mock-1", name: "Mock 1", input: ["text"], contextWindow: 128000, maxTokens: 4096 }],
        },
      },
    },
    agents: { defaults: { model: { primary: "mock/mock-1" } } },
  };
}
