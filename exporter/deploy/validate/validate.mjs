// Validates every manifest in ../kubernetes against the Kubernetes schemas (kubernetes-models) and
// the prometheus-operator CRD schemas. Exit 0 when all are valid; otherwise prints each problem.
import { readFileSync, readdirSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import { DaemonSet } from "kubernetes-models/apps/v1/DaemonSet";
import { Service } from "kubernetes-models/v1/Service";
import { ServiceMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor";

const kinds = {
  "apps/v1/DaemonSet": DaemonSet,
  "v1/Service": Service,
  "monitoring.coreos.com/v1/ServiceMonitor": ServiceMonitor,
};

const dir = join(dirname(fileURLToPath(import.meta.url)), "..", "kubernetes");
let failures = 0;
let checked = 0;
for (const file of readdirSync(dir).filter((f) => f.endsWith(".yaml")).sort()) {
  for (const doc of parseAllDocuments(readFileSync(join(dir, file), "utf8"))) {
    if (doc.errors.length) {
      console.log(`${file}: YAML: ${doc.errors.map((e) => e.message).join("; ")}`);
      failures++;
      continue;
    }
    const obj = doc.toJS();
    const Model = kinds[`${obj.apiVersion}/${obj.kind}`];
    if (!Model) {
      console.log(`${file}: no schema known for ${obj.apiVersion} ${obj.kind}`);
      failures++;
      continue;
    }
    try {
      new Model(obj).validate();
      if (obj.kind === "DaemonSet") {
        const sc = obj.spec.template.spec.containers[0].securityContext;
        if (sc.privileged) throw new Error("must not be privileged: capabilities only");
        const res = obj.spec.template.spec.containers[0].resources;
        if (!res?.requests || !res?.limits) throw new Error("needs resource requests and limits");
      }
      checked++;
      console.log(`${file}: ${obj.kind} ${obj.metadata.name} valid`);
    } catch (e) {
      console.log(`${file}: ${obj.kind} ${obj.metadata?.name}: ${e.message}`);
      failures++;
    }
  }
}
console.log(`${checked} valid, ${failures} invalid`);
process.exit(failures === 0 && checked > 0 ? 0 : 1);
