// The PostgreSQL parser (libpg-query, WebAssembly) in a worker thread: its module loads
// asynchronously, and config/readOnlyQuery.ts parses synchronously through synckit.
"use strict";
const { runAsWorker } = require("synckit");
const { loadModule, parseSync } = require("libpg-query");

runAsWorker(async (/** @type {string[]} */ queries) => {
    await loadModule();
    return queries.map((query) => {
        try {
            return { tree: parseSync(query) };
        } catch (err) {
            return { error: err instanceof Error ? err.message : String(err) };
        }
    });
});
