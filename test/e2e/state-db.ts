// OpenClaw 2026.9's state database (<state>/state/openclaw.sqlite): which rows of its key-value table hold a
// given text. The host keeps its auth profiles there (table config_machine_state, row authProfiles.store).
import { DatabaseSync } from "node:sqlite";

/** The `state_key`s of config_machine_state rows whose value contains `text` (compared here, never shown). */
export function authStoreRowsWith(file: string, text: string): string[] {
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    const rows = db.prepare("SELECT state_key, value_json FROM config_machine_state").all() as Array<{
      state_key: string;
      value_json: unknown;
    }>;
    return rows.filter((row) => String(row.value_json).includes(text)).map((row) => row.state_key);
  } finally {
    db.close();
  }
}
