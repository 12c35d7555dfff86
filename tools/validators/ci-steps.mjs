#!/usr/bin/env node
// ci-steps.mjs — turns a CI recipe of examples/ci into the shell script its
// CI would run, for tests/scripts/ci_examples.sh (which supplies the
// server, apt-get and the secret).
//
//   node ci-steps.mjs github FILE JOB   GitHub Actions: one script; each `run:`
//       step runs in `bash -e` (as GitHub does), in order; a step after a
//       failure runs only with `if: always()`; the job's env is exported
//       unless the caller's environment already sets the variable (secrets
//       `${{ ... }}` always come from the caller). `uses:` steps are not
//       run: they are printed as "# uses: NAME WITH-JSON" lines to check.
//   node ci-steps.mjs gitlab FILE JOB   GitLab CI: variables, then
//       before_script and script in one `bash -e` (as the shell executor),
//       and "# junit: PATH" / "# artifact: PATH" lines.
// Exit 2 when the file lacks what a recipe must have.
import { readFileSync } from 'node:fs';
import YAML from 'yaml';

const [kind, file, job] = process.argv.slice(2);
const doc = YAML.parse(readFileSync(file, 'utf8'));
const q = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`;
const out = ['#!/bin/bash', 'set -u', 'job_rc=0'];
const die = (m) => { console.error(`ci-steps: ${file}: ${m}`); process.exit(2); };

const exportEnv = (env) => {
	for (const [k, v] of Object.entries(env || {})) {
		if (String(v).includes('${{'))
			continue; // a secret or expression: the caller's environment supplies it
		out.push(`[ -n "\${${k}+x}" ] || export ${k}=${q(v)}`);
	}
};

if (kind === 'github') {
	const j = doc.jobs && doc.jobs[job];
	if (!j || !Array.isArray(j.steps))
		die(`no job ${job} with steps`);
	exportEnv(j.env);
	j.steps.forEach((st, i) => {
		if (st.uses) {
			out.push(`# uses: ${st.uses} ${JSON.stringify(st.with || {})}`);
			return;
		}
		if (!st.run)
			return;
		const always = st.if && /always\(\)/.test(st.if);
		out.push(`# step ${i}: ${st.name || ''}`);
		out.push(`if [ "$job_rc" -eq 0 ]${always ? ' || true' : ''}; then`);
		out.push('  (');
		exportEnv(st.env);
		out.push(`  bash -e -c ${q(st.run)}`);
		out.push(`  ); rc=$?; echo "ci-step ${i} (${(st.name || '').replace(/[^A-Za-z0-9 ()-]/g, '')}): exit $rc" >&2`);
		out.push('  [ "$rc" -eq 0 ] || job_rc=$rc');
		out.push('fi');
	});
} else if (kind === 'gitlab') {
	const j = doc[job];
	if (!j || !Array.isArray(j.script))
		die(`no job ${job} with a script`);
	exportEnv(doc.variables);
	exportEnv(j.variables);
	const lines = [...(j.before_script || []), ...j.script];
	out.push(`bash -e -c ${q(lines.join('\n'))}; job_rc=$?`);
	const a = j.artifacts || {};
	for (const p of (a.reports && a.reports.junit) ? [].concat(a.reports.junit) : [])
		out.push(`# junit: ${p}`);
	for (const p of a.paths || [])
		out.push(`# artifact: ${p}`);
	if (a.when !== 'always')
		die('artifacts must be kept when the job fails (when: always)');
} else {
	console.error('usage: ci-steps.mjs github|gitlab FILE JOB');
	process.exit(2);
}
out.push('exit "$job_rc"');
console.log(out.join('\n'));
