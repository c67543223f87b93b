// Policy container-image-pinned: container images carry a tag that is not "latest", or a digest.
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { asArray, dig, ENFORCEMENT, isObject, onTypes, POD_SPEC_PATHS } from "./common";

/**
 * Why an image reference is not pinned, or undefined when it is.
 * `registry:5000/nginx` has no tag: the colon belongs to the registry host, only a colon in
 * the last path component introduces a tag. A digest (`@sha256:<64 hex>`) is always fine.
 */
export function imageReferenceProblem(image: unknown): string | undefined {
    if (image === undefined || image === null || image === "") {
        return "has no image";
    }
    if (typeof image !== "string") {
        return `has a non-string image (${JSON.stringify(image)})`;
    }
    if (image.trim() !== image || /\s/.test(image)) {
        return `image "${image}" contains whitespace`;
    }
    const at = image.indexOf("@");
    if (at >= 0) {
        const digest = image.slice(at + 1);
        return /^sha256:[0-9a-f]{64}$/.test(digest) ? undefined : `image "${image}" has a malformed digest "${digest}"`;
    }
    const lastComponent = image.slice(image.lastIndexOf("/") + 1);
    const colon = lastComponent.indexOf(":");
    if (colon < 0) {
        return `image "${image}" has no tag (it would pull :latest)`;
    }
    const tag = lastComponent.slice(colon + 1);
    if (tag === "") {
        return `image "${image}" has an empty tag`;
    }
    if (tag.toLowerCase() === "latest") {
        return `image "${image}" uses the mutable tag "latest"`;
    }
    return undefined;
}

export const containerImagePinned: ResourceValidationPolicy = {
    name: "container-image-pinned",
    description:
        "Every container and init container of a CronJob, Job, Deployment, StatefulSet, DaemonSet, ReplicaSet or Pod " +
        'uses an image with an explicit tag other than "latest", or a sha256 digest.',
    enforcementLevel: ENFORCEMENT,
    validateResource: onTypes(Object.keys(POD_SPEC_PATHS), (args, report, what) => {
        const specPath = POD_SPEC_PATHS[args.type]!;
        const podSpec = dig(args.props, specPath);
        for (const field of ["initContainers", "containers"] as const) {
            asArray(dig(podSpec, [field])).forEach((container, i) => {
                const cname = isObject(container) && typeof container["name"] === "string" ? ` "${container["name"]}"` : "";
                const problem = imageReferenceProblem(isObject(container) ? container["image"] : undefined);
                if (problem) {
                    report(`${what}: ${specPath.join(".")}.${field}[${i}]${cname} ${problem}; pin a version tag or a digest.`);
                }
            });
        }
    }),
};
