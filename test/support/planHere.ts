// `npm run plan -- <args>` in this process: bin/plan.ts's main on a scratch repository, with the
// TypeScript and Pulumi SDKs the test process has already loaded, checked by runMain to leave this
// process as it found it.
import { main } from "../../bin/plan";
import { renderStack } from "../../lib/render";
import { CommandRun, runMain } from "./commandMain";

let firstRender: Promise<unknown> | undefined;

/** plan's main on `args` for the repository at `dir`, its temporary files under `env`'s TMPDIR. */
export async function planHere(args: string[], dir: string, env: NodeJS.ProcessEnv = process.env): Promise<CommandRun> {
    // The first render in a process installs process-wide hooks once (the Pulumi runtime's exit hook,
    // the renderer's rejection filter): installed before any run, so a run is held to leave none.
    await (firstRender ??= renderStack("c2a7dv-hml"));
    return runMain((argv, io) => main(argv, { ...io, dir }), args, env);
}
