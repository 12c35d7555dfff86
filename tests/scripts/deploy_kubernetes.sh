#!/bin/sh
# The Kubernetes manifests of deploy/kubernetes say what docs/DEPLOY.md
# says, read with the YAML parser of tools/validators (no cluster needed):
#  - both files parse; the shards are an Indexed Job whose completions,
#    parallelism and SHARDS agree, with no retry;
#  - the shard's args: --shard $(JOB_COMPLETION_INDEX)/$(SHARDS), --start-at
#    $(START_AT) with START_AT the placeholder the doc's sed replaces, its
#    report on the mounted volume named by the completion index;
#  - the secret only as EB_JWT_SECRET from the Secret and key the doc's
#    `kubectl create secret` makes, never --jwt-secret in the args;
#  - one volume claim, defined in the file, mounted by both Jobs; the merge
#    Job merges exactly shard-0 .. shard-(N-1) from where the shards wrote;
#  - every flag of both Jobs is one ebload --help documents, and ebload
#    accepts the shard's args substituted as Kubernetes would (with --help
#    added: it parses every flag, then prints the help and exits 0).
# Usage: sh tests/scripts/deploy_kubernetes.sh build/<config>  (EB_BIN_DIR wins)
set -u
B=${1:?usage: deploy_kubernetes.sh build/<config>}
BIN=${EB_BIN_DIR:-$B/bin}
ROOT=${EB_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
V=$ROOT/tools/validators
T=$(mktemp -d "${TMPDIR:-/tmp}/eb-k8s.XXXXXX")
trap 'rm -rf "$T"' EXIT
trap 'exit 2' INT TERM

fail() {
	echo "deploy_kubernetes: FAIL: $*"
	exit 1
}

sh "$V/install.sh" || fail "the validators of tools/validators could not be installed"
"$BIN/ebload" --help >"$T/help.txt" || fail "ebload --help exited $?"

# One line out: the shard's args, NUL-free, one per line, in $T/args.txt.
# shellcheck disable=SC2016 # JavaScript, not the shell
EBV=$V EBROOT=$ROOT EBHELP=$T/help.txt node -e '
const fs = require("fs");
const YAML = require(process.env.EBV + "/node_modules/yaml");
const root = process.env.EBROOT;
const help = fs.readFileSync(process.env.EBHELP, "utf8");
const doc = fs.readFileSync(root + "/docs/DEPLOY.md", "utf8");
const die = (m) => { console.log("deploy_kubernetes: FAIL: " + m); process.exit(1); };
const ok = (c, m) => { if (!c) die(m); };
const load = (f) => {
	const docs = YAML.parseAllDocuments(fs.readFileSync(root + "/" + f, "utf8"));
	for (const d of docs)
		if (d.errors.length) die(f + ": " + d.errors[0].message);
	return docs.map((d) => d.toJS()).filter((d) => d);
};
const shardFile = "deploy/kubernetes/ebload-indexed-job.yaml";
const mergeFile = "deploy/kubernetes/ebload-merge-job.yaml";
const shards = load(shardFile), merge = load(mergeFile);
const pvc = shards.find((d) => d.kind === "PersistentVolumeClaim");
const job = shards.find((d) => d.kind === "Job");
const mjob = merge.find((d) => d.kind === "Job");
ok(pvc && job && mjob, "want a PersistentVolumeClaim and a Job, and a merge Job");
const s = job.spec;
ok(s.completionMode === "Indexed", "the shards Job is not Indexed");
const c = s.template.spec.containers[0];
const env = Object.fromEntries(c.env.map((e) => [e.name, e]));
const n = Number(env.SHARDS && env.SHARDS.value);
ok(n >= 1 && s.completions === n && s.parallelism === n,
   `completions ${s.completions}, parallelism ${s.parallelism} and SHARDS ${n} differ`);
ok(s.backoffLimit === 0, "a shard retried after START_AT: want backoffLimit 0");
ok(s.template.spec.restartPolicy === "Never", "want restartPolicy Never");
const args = c.args, cmd = c.command;
ok(cmd.length === 1 && cmd[0] === "ebload", "the shard command is not ebload");
const val = (a, f) => { const i = a.indexOf(f); return i >= 0 ? a[i + 1] : undefined; };
ok(val(args, "--shard") === "$(JOB_COMPLETION_INDEX)/$(SHARDS)",
   "--shard is not $(JOB_COMPLETION_INDEX)/$(SHARDS)");
ok(val(args, "--start-at") === "$(START_AT)", "--start-at is not $(START_AT)");
ok(env.START_AT.value === "@START_AT@", "START_AT is not the placeholder @START_AT@");
ok(doc.includes(`sed "s/@START_AT@/$(( $(date +%s) + 120 ))/" ${shardFile}`),
   "the doc does not substitute @START_AT@ in " + shardFile);
const mount = c.volumeMounts[0].mountPath;
const json = val(args, "--json");
ok(json === `${mount}/shard-$(JOB_COMPLETION_INDEX).json`,
   `the report ${json} is not on the volume ${mount} named by the index`);
// the secret: from the Secret the doc creates, as EB_JWT_SECRET only
const ref = env.EB_JWT_SECRET && env.EB_JWT_SECRET.valueFrom &&
	env.EB_JWT_SECRET.valueFrom.secretKeyRef;
ok(ref, "EB_JWT_SECRET does not come from a Secret");
ok(doc.includes(`kubectl create secret generic ${ref.name} --from-literal=${ref.key}=`),
   `the doc does not create the Secret ${ref.name} with key ${ref.key}`);
for (const a of [...cmd, ...args, ...mjob.spec.template.spec.containers[0].args])
	ok(!/jwt-secret|private-key/.test(a), "a secret flag on the command line: " + a);
ok(!Object.values(env).some((e) => e.name !== "EB_JWT_SECRET" && e.valueFrom),
   "another variable from a Secret");
// one claim, both Jobs
const claim = (j) => j.spec.template.spec.volumes[0].persistentVolumeClaim.claimName;
ok(claim(job) === pvc.metadata.name && claim(mjob) === pvc.metadata.name,
   "the Jobs do not mount the claim " + pvc.metadata.name);
const mc = mjob.spec.template.spec.containers[0];
ok(mc.volumeMounts[0].mountPath === mount, "the merge Job mounts the volume elsewhere");
ok(mc.command[0] === "ebload" && mc.args[0] === "merge", "the merge Job does not run ebload merge");
const inputs = mc.args.filter((a) => a.endsWith(".json") && a !== val(mc.args, "--json"));
const want = Array.from({ length: n }, (_, i) => `${mount}/shard-${i}.json`);
ok(JSON.stringify(inputs) === JSON.stringify(want),
   `the merge Job reads ${inputs.join(" ")}, want ${want.join(" ")}`);
ok(doc.includes("kubectl wait --for=condition=complete job/" + job.metadata.name),
   "the doc does not wait for the Job " + job.metadata.name);
// every flag is documented by ebload --help
for (const a of [...args, ...mc.args])
	if (a.startsWith("--"))
		ok(new RegExp("^\\s+" + a.replace(/[-]/g, "\\-") + "[ ,]", "m").test(help),
		   a + " is not in ebload --help");
// the args as Kubernetes expands them for pod 1
const at = String(Math.floor(Date.now() / 1000) + 120);
const sub = { JOB_COMPLETION_INDEX: "1", START_AT: at };
for (const [k, e] of Object.entries(env))
	if (e.value !== undefined && !(k in sub)) sub[k] = e.value;
const out = args.map((a) => a.replace(/\$\(([A-Z_]+)\)/g, (m, k) => (k in sub ? sub[k] : m)));
ok(!out.some((a) => a.includes("$(")), "an unexpanded $(VAR): " + out.join(" "));
fs.writeFileSync(process.env.EBHELP + ".args", out.join("\n") + "\n");
console.log(`deploy_kubernetes: ${n} shards, Indexed, --shard $(JOB_COMPLETION_INDEX)/${n}, ` +
	`secret ${ref.name}/${ref.key} as EB_JWT_SECRET, reports on ${pvc.metadata.name}`);
' || exit 1

# ebload accepts the shard's args (pod 1): parse, then --help, exit 0; the
# same with a wrong flag added is exit 2 (the check can fail)
set --
while IFS= read -r a; do set -- "$@" "$a"; done <"$T/help.txt.args"
"$BIN/ebload" "$@" --help >/dev/null 2>"$T/parse.err" ||
	fail "ebload refuses the shard's args: $(cat "$T/parse.err")"
"$BIN/ebload" "$@" --no-such-flag --help >/dev/null 2>&1
[ $? -eq 2 ] || fail "ebload accepted a wrong flag after the shard's args"
echo "deploy_kubernetes: ebload accepts pod 1's args: $*"
