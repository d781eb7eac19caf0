// A real forward proxy (the `proxy` package: plain requests forwarded, CONNECT tunnelled) in its own process,
// logging what it was asked to do as JSON lines on stdout: method, target, and whether an Authorization header
// came with it. Started by proxy-process.ts; its first line is the port it listens on.
import { createServer, type IncomingMessage } from "node:http";
import { createProxy } from "proxy";

const server = createServer();
const log = (req: IncomingMessage) =>
  process.stdout.write(
    `${JSON.stringify({
      method: req.method,
      url: req.url,
      authorization: req.headers.authorization === undefined ? "absent" : "present",
    })}\n`,
  );
// Listeners added before the proxy's own, so every request is logged before it is handled.
server.on("request", log);
server.on("connect", log);
createProxy(server);
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  process.stdout.write(
    `${JSON.stringify({ port: typeof address === "object" && address ? address.port : 0 })}\n`,
  );
});
