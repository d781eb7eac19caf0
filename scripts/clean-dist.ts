// Empties dist/ before `tsc` writes it (npm run build, and so `prepare` and `npm pack`): tsc never removes the
// output of a source file that is gone, and such a file would ship in the package and still be importable.
import { rmSync } from "node:fs";

rmSync(new URL("../dist/", import.meta.url), { recursive: true, force: true });
