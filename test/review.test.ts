import { strict as assert } from "assert";
import { main, review } from "../bin/review";
import { fleetRepo, FleetRepo } from "./support/fleetRepo";
import { runMain } from "./support/commandMain";

/** The command with its arguments, through its main. */
function reviewCli(repo: FleetRepo, base: string) {
    return runMain(main, ["--base", base, "--repo", repo.dir]);
}

/** The review the command prints: what the command adds is only its arguments (tested through reviewCli). */
function reviewOf(repo: FleetRepo, base: string) {
    const r = review(base, repo.dir);
    return { status: r.code, stdout: r.stdout, stderr: r.stderr };
}

describe("npm run --silent review -- --base <ref>", () => {
    let repo: FleetRepo;
    beforeEach(() => (repo = fleetRepo()));
    afterEach(() => repo.remove());

    it("exits 1 when one change moves updateDesiredVersion of both stages of an environment, saying to promote prod later", async () => {
        repo.setVersion("c2a7dv-hml", "12.1.2610");
        repo.setVersion("c2a7dv-prod", "12.1.2510");
        const res = await reviewCli(repo, "main");
        assert.equal(res.status, 1, res.stderr);
        assert.match(
            res.stderr,
            /^review: environment c2a7dv: this change moves updateDesiredVersion of both Pulumi\.c2a7dv-hml\.yaml \(12\.1\.2510 → 12\.1\.2610\) and Pulumi\.c2a7dv-prod\.yaml \(12\.1\.2410 → 12\.1\.2510\); promote prod in a second change once c2a7dv-hml has run 12\.1\.2510$/m,
        );
    });

    it("exits 0 when only one stage moves, or the stages of different environments move", () => {
        repo.setVersion("c2a7dv-hml", "12.1.2610");
        assert.equal(reviewOf(repo, "main").status, 0);
        repo.commit("hml moves");
        repo.setVersion("c2a7dv-prod", "12.1.2510");
        const res = reviewOf(repo, "HEAD");
        assert.equal(res.status, 0, res.stderr);
        assert.match(res.stdout, /no environment moves hml and prod together/);
        // A new environment's two stacks are new, not moved.
        repo.write("Pulumi.x9k2pq-hml.yaml", "config:\n  protheus:stage: hml\n  protheus:updateDesiredVersion: 12.1.2510\n");
        repo.write("Pulumi.x9k2pq-prod.yaml", "config:\n  protheus:stage: prod\n  protheus:updateDesiredVersion: 12.1.2510\n");
        assert.equal(reviewOf(repo, "HEAD").status, 0);
    });

    it("counts a version moved through Pulumi.yaml like one moved in the stack file", () => {
        repo.write("Pulumi.yaml", repo.git("show", "HEAD:Pulumi.yaml") + "  protheus:updateDesiredVersion:\n    value: 12.1.2610\n");
        for (const s of ["c2a7dv-hml", "c2a7dv-prod"]) {
            const f = `Pulumi.${s}.yaml`;
            repo.write(f, repo.git("show", `HEAD:${f}`).replace(/ {2}protheus:updateDesiredVersion: .*\n/, ""));
        }
        assert.equal(reviewOf(repo, "main").status, 1);
    });

    it("exits 2 with a one-line reason on a bad ref", async () => {
        const res = await reviewCli(repo, "no-such-ref");
        assert.equal(res.status, 2);
        assert.equal(res.stderr, `review: bad git ref "no-such-ref": not a commit in ${repo.dir}\n`);
    });
});
