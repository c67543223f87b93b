// The project brings its own Node (the `node` devDependency); npm puts it first on PATH for
// `npm test`, `npm run` and `npx`, which is why the EBADENGINE warnings of `npm ci` on an
// older system Node are harmless (docs/setup.md).
import * as assert from "node:assert/strict";
import * as semver from "semver";

describe("the Node.js the tests run on", () => {
    it("is the one package.json requires (engines.node), not an older system Node", () => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- JSON read at run time: package.json is outside the compiled tree
        const { engines, devDependencies } = require("../package.json") as { engines: { node: string }; devDependencies: Record<string, string> };
        assert.ok(
            semver.satisfies(process.versions.node, engines.node),
            `running on Node ${process.versions.node} (${process.execPath}), package.json wants ${engines.node}: run the tests with npm test or npx, ` +
                `which put node_modules/.bin (node ${devDependencies.node}) first on PATH`,
        );
        assert.equal(process.versions.node, devDependencies.node);
    });
});
