import * as assert from "assert";
import { kubectlInvocations, kubectlRequests, namespaceOf, shellWords } from "./support/kubectlRequests";

const req = (line: string) => kubectlRequests(shellWords(line));

describe("kubectlRequests: what a guide's kubectl command asks the API server", () => {
    const cases: [string, object[]][] = [
        ["-n c2a7dv get pods", [{ verb: "list", apiGroup: "", resource: "pods" }]],
        [
            "-n c2a7dv get jobs -l app=x -w",
            [
                { verb: "list", apiGroup: "batch", resource: "jobs" },
                { verb: "watch", apiGroup: "batch", resource: "jobs" },
            ],
        ],
        ["-n c2a7dv get cj protheus-updater -o yaml", [{ verb: "get", apiGroup: "batch", resource: "cronjobs", name: "protheus-updater" }]],
        [
            "-n c2a7dv logs job/upd-1 --tail=100",
            [
                { verb: "get", apiGroup: "batch", resource: "jobs", name: "upd-1" },
                { verb: "list", apiGroup: "", resource: "pods" },
                { verb: "get", apiGroup: "", resource: "pods/log" },
            ],
        ],
        [
            "-n c2a7dv logs -f pod-x",
            [
                { verb: "get", apiGroup: "", resource: "pods", name: "pod-x" },
                { verb: "get", apiGroup: "", resource: "pods/log", name: "pod-x" },
            ],
        ],
        [
            "-n c2a7dv exec -it job/tb -- sh",
            [
                { verb: "get", apiGroup: "batch", resource: "jobs", name: "tb" },
                { verb: "list", apiGroup: "", resource: "pods" },
                { verb: "create", apiGroup: "", resource: "pods/exec" },
            ],
        ],
        [
            "-n c2a7dv cp tttm120.rpo upd-x:protheus/apo/tttm120.rpo",
            [
                { verb: "get", apiGroup: "", resource: "pods", name: "upd-x" },
                { verb: "create", apiGroup: "", resource: "pods/exec", name: "upd-x" },
            ],
        ],
        [
            "-n c2a7dv exec -it protheus-toolbox-0 -- sh",
            [
                { verb: "get", apiGroup: "", resource: "pods", name: "protheus-toolbox-0" },
                { verb: "create", apiGroup: "", resource: "pods/exec", name: "protheus-toolbox-0" },
            ],
        ],
        [
            "-n c2a7dv attach -it pod/protheus-updater-sleeper-0",
            [
                { verb: "get", apiGroup: "", resource: "pods", name: "protheus-updater-sleeper-0" },
                { verb: "create", apiGroup: "", resource: "pods/attach", name: "protheus-updater-sleeper-0" },
            ],
        ],
        [
            "-n c2a7dv scale statefulset protheus-toolbox --replicas=1",
            [
                { verb: "get", apiGroup: "apps", resource: "statefulsets", name: "protheus-toolbox" },
                { verb: "get", apiGroup: "apps", resource: "statefulsets/scale", name: "protheus-toolbox" },
                { verb: "patch", apiGroup: "apps", resource: "statefulsets/scale", name: "protheus-toolbox" },
            ],
        ],
        [
            "-n c2a7dv create job tb --from=cronjob/protheus-toolbox",
            [
                { verb: "get", apiGroup: "batch", resource: "cronjobs", name: "protheus-toolbox" },
                { verb: "create", apiGroup: "batch", resource: "jobs" },
            ],
        ],
        [
            "-n c2a7dv create configmap protheus-restore-request --from-literal=RESTORE_BACKUP=latest",
            [{ verb: "create", apiGroup: "", resource: "configmaps" }],
        ],
        [
            "-n c2a7dv delete job -l protheus.totvs.com/component=updater",
            [
                { verb: "list", apiGroup: "batch", resource: "jobs" },
                { verb: "delete", apiGroup: "batch", resource: "jobs" },
            ],
        ],
        ["-n c2a7dv delete configmap protheus-restore-request", [{ verb: "delete", apiGroup: "", resource: "configmaps", name: "protheus-restore-request" }]],
        [
            '-n c2a7dv patch cronjob protheus-updater -p \'{"spec":{"suspend":true}}\'',
            [{ verb: "patch", apiGroup: "batch", resource: "cronjobs", name: "protheus-updater" }],
        ],
        [
            "-n c2a7dv scale deploy/appserver --replicas=0",
            [
                { verb: "get", apiGroup: "apps", resource: "deployments", name: "appserver" },
                { verb: "get", apiGroup: "apps", resource: "deployments/scale", name: "appserver" },
                { verb: "patch", apiGroup: "apps", resource: "deployments/scale", name: "appserver" },
            ],
        ],
        [
            "-n c2a7dv describe pod p1",
            [
                { verb: "get", apiGroup: "", resource: "pods", name: "p1" },
                { verb: "list", apiGroup: "", resource: "events" },
            ],
        ],
    ];
    for (const [line, want] of cases) {
        it(`kubectl ${line}`, () => assert.deepStrictEqual(req(line), want));
    }

    it("refuses what it does not know, instead of letting a command pass unchecked", () => {
        assert.throws(() => req("-n x port-forward svc/a 80"), /unsupported kubectl subcommand "port-forward"/);
        assert.throws(() => req("-n x get widgets"), /unknown resource type "widgets"/);
        assert.throws(() => req("-n x get pods --bogus"), /unknown kubectl flag "--bogus"/);
    });

    it("finds kubectl inside $( ), pipes and after variable assignments, and reads the namespace", () => {
        const inv = kubectlInvocations(`POD=$(kubectl -n c2a7dv get pods -l job-name=x -o name) && kubectl -n c2a7dv logs "$POD" | tail`);
        assert.deepStrictEqual(
            inv.map((w) => w[2]),
            ["get", "logs"],
        );
        assert.strictEqual(namespaceOf(inv[1]), "c2a7dv");
        assert.deepStrictEqual(kubectlInvocations("echo kubectl is not run here"), []);
    });
});

describe("kubectlRequests: the forms the operations guide uses", () => {
    it("reads TYPE.GROUP/NAME as printed by -o name, and auth can-i needs nothing", () => {
        assert.deepStrictEqual(req("-n c2a7dv describe job.batch/upd-1"), [
            { verb: "get", apiGroup: "batch", resource: "jobs", name: "upd-1" },
            { verb: "list", apiGroup: "", resource: "events" },
        ]);
        assert.deepStrictEqual(req("-n c2a7dv auth can-i --list"), []);
        assert.deepStrictEqual(req("-n c2a7dv wait --for=condition=Ready pod -l job-name=x --timeout=5m"), [
            { verb: "list", apiGroup: "", resource: "pods" },
            { verb: "watch", apiGroup: "", resource: "pods" },
        ]);
    });
});
