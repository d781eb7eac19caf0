export { writeFileAtomic } from "./atomic-write.ts";
export { defaultStatusPath } from "./paths.ts";
export { createFileStatusStore, createMemoryStatusStore, type StatusStore } from "./store.ts";
