// The PromQL of the alert policies parses with Prometheus's own parser (@prometheus-io/lezer-promql),
// and every metric it selects is the PromQL name Cloud Monitoring gives a log-based metric the
// stack declares. The mapping is Google's (https://cloud.google.com/monitoring/promql/promql-mapping):
// replace the first "/" with ":", every other special character (".", "/", "-") with "_"; a
// log-based metric maps to several resource types, so the query names one with `monitored_resource`.
import { strict as assert } from "assert";
import { parser } from "@prometheus-io/lezer-promql";
import { renderExample } from "./support/stacks";

interface Selector {
    metric: string;
    labels: string[];
}

/** Syntax errors (their offsets) and the vector selectors of a query. */
function parsePromQL(query: string): { errors: number[]; selectors: Selector[] } {
    const errors: number[] = [];
    const selectors: Selector[] = [];
    parser.parse(query).iterate({
        enter: (n) => {
            if (n.type.isError) errors.push(n.from);
            if (n.name === "VectorSelector") {
                const metric = n.node.getChild("Identifier");
                const labels = n.node.getChild("LabelMatchers")?.getChildren("UnquotedLabelMatcher") ?? [];
                selectors.push({
                    metric: metric ? query.slice(metric.from, metric.to) : "",
                    labels: labels.map((l) => {
                        const name = l.getChild("LabelName")!;
                        return query.slice(name.from, name.to);
                    }),
                });
            }
        },
    });
    return { errors, selectors };
}

/** Cloud Monitoring's PromQL name of a metric type. */
function promqlName(metricType: string): string {
    const slash = metricType.indexOf("/");
    return `${metricType.slice(0, slash).replace(/[^A-Za-z0-9_]/g, "_")}:${metricType.slice(slash + 1).replace(/[^A-Za-z0-9_]/g, "_")}`;
}

describe("the alert policies' PromQL", () => {
    it("Google's mapping, on the examples of its page", () => {
        assert.equal(promqlName("kubernetes.io/container/cpu/limit_cores"), "kubernetes_io:container_cpu_limit_cores");
        assert.equal(promqlName("logging.googleapis.com/log_entry_count"), "logging_googleapis_com:log_entry_count");
        assert.equal(
            promqlName("custom.googleapis.com/opencensus/opencensus.io/http/server/request_count_by_method"),
            "custom_googleapis_com:opencensus_opencensus_io_http_server_request_count_by_method",
        );
    });

    it("the parser reports a broken query", () => {
        assert.notDeepEqual(parsePromQL("sum(increase(x[24h]) or").errors, []);
        assert.deepEqual(parsePromQL('sum(increase(x{a="b"}[24h]))').errors, []);
    });

    it("every PromQL condition parses and selects a log-based metric of the stack, by its Cloud Monitoring name, with its resource type", async () => {
        const { resources } = await renderExample("prod");
        const logMetrics = resources
            .filter((r) => r.type === "gcp:logging/metric:Metric")
            .map((r) => promqlName(`logging.googleapis.com/user/${r.inputs.name as string}`));
        const queries = resources
            .filter((r) => r.type === "gcp:monitoring/alertPolicy:AlertPolicy")
            .flatMap((r) =>
                (r.inputs.conditions as { conditionPrometheusQueryLanguage?: { query: string } }[]).map((c) => c.conditionPrometheusQueryLanguage?.query),
            )
            .filter((q): q is string => q !== undefined);
        assert.ok(queries.length >= 2, "the missing-run policies are PromQL");
        for (const q of queries) {
            const { errors, selectors } = parsePromQL(q);
            assert.deepEqual(errors, [], q);
            assert.ok(selectors.length > 0, q);
            for (const s of selectors) {
                assert.ok(logMetrics.includes(s.metric), `${s.metric} is not one of the stack's log-based metrics (${logMetrics.join(", ")})`);
                assert.ok(s.labels.includes("monitored_resource"), `${q}: a log-based metric needs monitored_resource`);
            }
        }
    });
});
