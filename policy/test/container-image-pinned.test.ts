import * as assert from "node:assert/strict";
import { containerImagePinned, imageReferenceProblem } from "../container-image-pinned";
import { cronJob, podSpec, runResource, workload } from "./harness";

const DIGEST = "sha256:" + "ab12".repeat(16);

describe("policy container-image-pinned", () => {
    describe("imageReferenceProblem", () => {
        for (const ok of [
            "nginx:1.27.3",
            "docker.io/library/nginx:1.27",
            "registry:5000/nginx:1.2",
            "registry.example.com:443/totvs/appserver:20.3.2.9",
            `nginx@${DIGEST}`,
            `registry:5000/nginx@${DIGEST}`,
            `nginx:latest@${DIGEST}`,
        ]) {
            it(`accepts ${ok}`, () => assert.equal(imageReferenceProblem(ok), undefined));
        }
        for (const [bad, re] of [
            ["nginx", /has no tag/],
            ["nginx:latest", /mutable tag "latest"/],
            ["nginx:LATEST", /mutable tag "latest"/],
            ["registry:5000/nginx", /has no tag/],
            ["registry.example.com:443/totvs/appserver", /has no tag/],
            ["nginx:", /empty tag/],
            ["nginx@sha256:abc", /malformed digest/],
            ["", /has no image/],
            [undefined, /has no image/],
        ] as const) {
            it(`rejects ${JSON.stringify(bad)}`, () => assert.match(imageReferenceProblem(bad) ?? "", re));
        }
    });

    const kinds = [
        "kubernetes:batch/v1:Job",
        "kubernetes:apps/v1:Deployment",
        "kubernetes:apps/v1:StatefulSet",
        "kubernetes:apps/v1:DaemonSet",
        "kubernetes:core/v1:Pod",
    ];
    for (const kind of kinds) {
        it(`checks containers and initContainers of a ${kind.split(":")[2]}`, async () => {
            const good = await runResource(
                containerImagePinned,
                workload(
                    kind,
                    "appserver",
                    podSpec([{ name: "app", image: "ghcr.io/totvs/appserver:20.3.2.9" }], [{ name: "init", image: `busybox@${DIGEST}` }]),
                ),
            );
            assert.deepEqual(good.violations, []);
            const bad = await runResource(
                containerImagePinned,
                workload(kind, "appserver", podSpec([{ name: "app", image: "registry:5000/nginx" }], [{ name: "init", image: "busybox:latest" }])),
            );
            assert.equal(bad.violations.length, 2, bad.violations.join("\n"));
            const path = kind.endsWith(":Pod") ? "spec" : "spec.template.spec";
            assert.ok(
                bad.violations.some((m) => m.includes(`${path}.initContainers[0] "init" image "busybox:latest" uses the mutable tag "latest"`)),
                bad.violations.join("\n"),
            );
            assert.ok(
                bad.violations.some((m) => m.includes(`${path}.containers[0] "app" image "registry:5000/nginx" has no tag`)),
                bad.violations.join("\n"),
            );
            assert.ok(bad.violations.every((m) => m.includes('"appserver"')));
        });
    }

    it("checks the pod template of a CronJob (spec.jobTemplate.spec.template.spec)", async () => {
        const bad = await runResource(
            containerImagePinned,
            cronJob("protheus-updater", {
                timeZone: "America/Sao_Paulo",
                containers: [
                    { name: "a", image: "nginx" },
                    { name: "b", image: "nginx:1.27" },
                    { name: "c", image: "nginx:latest" },
                ],
            }),
        );
        assert.equal(bad.violations.length, 2, bad.violations.join("\n"));
        assert.match(
            bad.violations[0]!,
            /^CronJob "protheus-updater" \(c2a7dv\/protheus-updater\): spec\.jobTemplate\.spec\.template\.spec\.containers\[0\] "a" image "nginx" has no tag/,
        );
        assert.match(bad.violations[1]!, /containers\[2\] "c" image "nginx:latest"/);
    });

    it("reports a container without an image", async () => {
        const out = await runResource(containerImagePinned, workload("kubernetes:apps/v1:Deployment", "d", podSpec([{ name: "x" }])));
        assert.equal(out.violations.length, 1);
        assert.match(out.violations[0]!, /containers\[0\] "x" has no image/);
    });

    it("ignores resources that are not workloads", async () => {
        const out = await runResource(containerImagePinned, { type: "kubernetes:core/v1:ConfigMap", name: "cm", props: { data: { image: "nginx" } } });
        assert.deepEqual(out.violations, []);
    });

    it("tolerates a workload without a pod template (missing fields)", async () => {
        const out = await runResource(containerImagePinned, { type: "kubernetes:apps/v1:Deployment", name: "d", props: { metadata: {} } });
        assert.deepEqual(out.violations, []);
    });
});
