// The program: read the validated stack config once, then wire the components.
// A config error throws before the first resource is declared.
import { EnvironmentNamespace } from "./components/EnvironmentNamespace";
import { EnvironmentVolume } from "./components/EnvironmentVolume";
import { ProtheusRelease } from "./components/ProtheusRelease";
import { UpdaterCronJob } from "./components/UpdaterCronJob";
import { loadStackConfig } from "./config/load";

const config = loadStackConfig();

const namespace = new EnvironmentNamespace("namespace", {
    name: config.namespace,
    stage: config.stage,
    updateDesiredVersion: config.updateDesiredVersion,
});

const volume = new EnvironmentVolume(
    "volume",
    { namespace: namespace.name, stage: config.stage, ...config.volume },
    { parent: namespace },
);

const release = new ProtheusRelease(
    "release",
    {
        namespace: namespace.name,
        repo: config.chart.repo,
        chart: config.chart.name,
        version: config.updateDesiredVersion,
        values: config.chart.values,
        volumeClaimName: volume.claimName,
        volumeClaimValue: config.chart.volumeClaimValue,
        timeoutSeconds: config.chart.timeoutSeconds,
        maxHistory: config.chart.maxHistory,
    },
    { parent: namespace },
);

new UpdaterCronJob(
    "updater",
    {
        namespace: namespace.name,
        stage: config.stage,
        ...config.updater,
        updateDesiredVersion: config.updateDesiredVersion,
        timeZone: config.timeZone,
        volumeClaimName: volume.claimName,
    },
    { parent: namespace },
);

export const stage = config.stage;
export const environmentNamespace = namespace.name;
/** What this stack runs; prod's promotion check reads hml's value. */
export const updateDesiredVersion = config.updateDesiredVersion;
export const releaseStatus = release.status.status;

// access: team Roles and RoleBindings from the responsibility table (components/TeamAccess.ts).
