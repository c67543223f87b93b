// The real program plus one Kubernetes object declared without a parent: it gets no provider
// from the components, so test/cluster.test.ts must report it.
import * as kubernetes from "@pulumi/kubernetes";
// eslint-disable-next-line @typescript-eslint/no-require-imports -- index.ts is an `export =` module
import program = require("../../index");

export = async () => {
    const outputs = await program();
    new kubernetes.core.v1.ConfigMap("orphan", { data: {} });
    return outputs;
};
