/** Polls a condition (not a timing assertion: it only waits for a state); fails naming `what` after `timeoutMs`. */
export async function waitFor(cond: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
    for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) if (cond()) return;
    throw new Error(`gave up waiting for ${what}`);
}
