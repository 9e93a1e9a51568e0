// examples/fragment_echo_server.ts with fragmentation off: the same app, codec
// and route, so against it `wireframe+frag` measures fragmentation alone.
// Usage: deno run -A bench/echo/unfragmented_server.ts --port 0 (or bun)
import { WireframeApp, WireframeServer } from "../../mod.ts";
import { runExampleServer } from "../../examples/_cli.ts";
import { fragmentFraming } from "../../examples/fragment_echo_server.ts";

/** The fragment echo app, minus `.fragmentation()`. */
function unfragmentedEchoApp(): WireframeApp {
  return new WireframeApp().codec(fragmentFraming().codec).route(1, (request) => request.payload);
}

await runExampleServer(7881, () => new WireframeServer(unfragmentedEchoApp()));
