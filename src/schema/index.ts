export * from "./chat.ts";
export * from "./config.ts";
export * from "./host.ts";
export * from "./record.ts";
export * from "./snapshot.ts";
