#!/usr/bin/env node
// ebvalidate.mjs — the checks tests/scripts/schemas.sh runs with the pinned
// validators of this folder (Ajv for JSON Schema 2020-12, the AsyncAPI
// parser; Redocly lints docs/openapi.yaml from the script itself).
//
//   node ebvalidate.mjs schemas                   compile every docs/schemas/*.json (strict)
//   node ebvalidate.mjs asyncapi                  parse + validate docs/asyncapi.yaml
//   node ebvalidate.mjs report SCHEMA FILE...     validate JSON files against a schema
//                                                 (SCHEMA: a file name of docs/schemas/)
//   node ebvalidate.mjs messages DIR [--need K..] validate the encoder tap's dumps: files
//                                                 named <kind>-XXXXXX.json, kind one of
//                                                 sync-request sync-response limits
//                                                 error-<status> ws-<type>; every kind
//                                                 given to --need must have a file
//   node ebvalidate.mjs wire REPORT.json [--min-http N] [--min-ws N] [--need-status S,..] [--need-ws T,..]
//                                                 every HTTP answer and server WebSocket
//                                                 message of an ebconform report's wire logs
//                                                 against docs/openapi.yaml / asyncapi.yaml
//   node ebvalidate.mjs http SAMPLES.jsonl        one {"method","path","status","headers",
//                                                 "body"} per line, against openapi.yaml
//   node ebvalidate.mjs batch FILE                several of the above in one process: lines
//                                                 "ok<TAB>CMD<TAB>ARG..." must pass,
//                                                 "bad<TAB>WHAT<TAB>CMD<TAB>ARG..." must fail
//
// The documents are found under $EB_ROOT (default: two folders up). Exit 0
// when everything validates, 1 with one line per failure otherwise, 2 on
// usage errors.
import { readFileSync, readdirSync } from 'node:fs';
import { join, dirname, basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import YAML from 'yaml';

const here = dirname(fileURLToPath(import.meta.url));
const root = process.env.EB_ROOT || join(here, '..', '..');
const docs = join(root, 'docs');
// Failures are collected and printed at the end (a waived one is taken back).
const problems = [];

function fail(msg) {
	problems.push(msg);
}

function newAjv() {
	// strict: unknown keywords and ambiguous schemas are errors, so a typo in
	// a schema cannot silently accept everything.
	const ajv = new Ajv2020({ strict: true, strictTypes: false, strictRequired: false, allErrors: true, validateFormats: true });
	addFormats(ajv);
	return ajv;
}

function errText(errors) {
	return (errors || []).slice(0, 4)
		.map((e) => `${e.instancePath || '/'} ${e.message}${e.params && e.params.additionalProperty ? ` (${e.params.additionalProperty})` : ''}${e.params && e.params.allowedValues ? ` ${JSON.stringify(e.params.allowedValues)}` : ''}`)
		.join('; ');
}

// ---- the two API documents as Ajv schemas -----------------------------------

// Rewrites "#/components/schemas/X" refs of an API document to refs into one
// schema resource ("<id>#/$defs/X") that holds every component schema.
function rewriteRefs(node, id) {
	if (Array.isArray(node))
		return node.map((n) => rewriteRefs(n, id));
	if (node && typeof node === 'object') {
		const out = {};
		for (const [k, v] of Object.entries(node)) {
			if (k === '$ref' && typeof v === 'string' && v.startsWith('#/components/schemas/'))
				out[k] = `${id}#/$defs/${v.slice('#/components/schemas/'.length)}`;
			else
				out[k] = rewriteRefs(v, id);
		}
		return out;
	}
	return node;
}

function loadYaml(name) {
	return YAML.parse(readFileSync(join(docs, name), 'utf8'));
}

let oasCache = null;
function openapi() {
	if (oasCache)
		return oasCache;
	const doc = loadYaml('openapi.yaml');
	const ajv = newAjv();
	ajv.addSchema({ $id: 'eb:openapi', $defs: rewriteRefs(doc.components.schemas, 'eb:openapi') });
	const resolve = (obj) => {
		while (obj && obj.$ref) {
			const parts = obj.$ref.replace(/^#\//, '').split('/').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
			obj = parts.reduce((o, p) => o[p], doc);
		}
		return obj;
	};
	const compiled = new Map();
	// The validator of one response object (body schema, required headers).
	const responseCheck = (resp) => {
		resp = resolve(resp);
		if (!compiled.has(resp)) {
			const media = resp.content && resp.content['application/json'];
			const validate = media && media.schema ? ajv.compile(rewriteRefs(media.schema, 'eb:openapi')) : null;
			const headers = Object.entries(resp.headers || {}).map(([name, h]) => {
				h = resolve(h);
				return { name: name.toLowerCase(), required: !!h.required, pattern: h.schema && h.schema.pattern ? new RegExp(h.schema.pattern) : null };
			});
			compiled.set(resp, { validate, headers, hasBody: !!media });
		}
		return compiled.get(resp);
	};
	const routes = Object.entries(doc.paths).map(([tpl, item]) => ({
		tpl,
		re: new RegExp('^' + tpl.split('/').map((seg) => (seg.startsWith('{') ? '[^/]+' : seg.replace(/[.*+?^$()|[\]\\]/g, '\\$&'))).join('/') + '$'),
		item,
	}));
	oasCache = { doc, ajv, resolve, responseCheck, routes };
	return oasCache;
}

let asyncCache = null;
function asyncapi() {
	if (asyncCache)
		return asyncCache;
	const doc = loadYaml('asyncapi.yaml');
	const ajv = newAjv();
	ajv.addSchema({ $id: 'eb:asyncapi', $defs: rewriteRefs(doc.components.schemas, 'eb:asyncapi') });
	const byType = new Map();
	for (const m of Object.values(doc.components.messages)) {
		const ref = m.payload.$ref;
		byType.set(m.name, ajv.getSchema(`eb:asyncapi#/$defs/${ref.slice('#/components/schemas/'.length)}`));
	}
	asyncCache = { doc, byType };
	return asyncCache;
}

// Validates one WebSocket message (parsed JSON) by its type.
function checkWsMessage(msg, where) {
	const { byType } = asyncapi();
	if (!msg || typeof msg !== 'object' || Array.isArray(msg) || typeof msg.type !== 'string') {
		fail(`${where}: not an object with a string "type" (WS-2)`);
		return;
	}
	const v = byType.get(msg.type);
	if (!v) {
		fail(`${where}: type "${msg.type}" is not a message of docs/asyncapi.yaml`);
		return;
	}
	if (!v(msg))
		fail(`${where}: ${msg.type}: ${errText(v.errors)}`);
}

// Validates one HTTP exchange against openapi.yaml. Returns false when the
// path is not a protocol route (extensions of section 13: skipped).
function checkHttp(s, where) {
	const { doc, responseCheck, routes } = openapi();
	const path = s.path.split('?')[0];
	if (!path.startsWith('/api/'))
		return false; // /healthz, /metrics, /admin/...: not the protocol (section 13)
	const route = routes.find((r) => r.re.test(path));
	const method = s.method.toLowerCase();
	let resp;
	if (!route) {
		resp = s.status === 404 ? doc.components.responses.NotFound : null;
	} else if (!route.item[method]) {
		resp = s.status === 405 ? doc.components.responses.MethodNotAllowed : null;
	} else {
		const op = route.item[method];
		resp = op.responses[String(s.status)] || op.responses[`${String(s.status)[0]}XX`] || op.responses.default;
	}
	if (!resp) {
		fail(`${where}: ${s.method} ${path} answered ${s.status}, a status docs/openapi.yaml does not give this route`);
		return true;
	}
	const c = responseCheck(resp);
	const h = Object.fromEntries(Object.entries(s.headers || {}).map(([k, v]) => [k.toLowerCase(), v]));
	for (const hd of c.headers) {
		if (hd.required && h[hd.name] === undefined)
			fail(`${where}: ${s.method} ${path} ${s.status}: header ${hd.name} missing`);
		else if (h[hd.name] !== undefined && hd.pattern && !hd.pattern.test(h[hd.name]))
			fail(`${where}: ${s.method} ${path} ${s.status}: header ${hd.name}: "${h[hd.name]}" does not match ${hd.pattern}`);
	}
	if (s.status === 101 || method === 'head')
		return true;
	if (c.hasBody) {
		if (!/^application\/json\b/i.test(h['content-type'] || ''))
			fail(`${where}: ${s.method} ${path} ${s.status}: Content-Type "${h['content-type'] || ''}" is not application/json (GEN-2)`);
		if (s.truncated)
			return true;
		let body;
		try {
			body = JSON.parse(s.body);
		} catch (e) {
			fail(`${where}: ${s.method} ${path} ${s.status}: body is not JSON (GEN-1): ${String(s.body).slice(0, 80)}`);
			return true;
		}
		if (c.validate && !c.validate(body))
			fail(`${where}: ${s.method} ${path} ${s.status}: ${errText(c.validate.errors)}`);
	}
	return true;
}

// ---- commands ---------------------------------------------------------------

function cmdSchemas() {
	const dir = join(docs, 'schemas');
	const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
	const ajv = newAjv();
	for (const f of files)
		ajv.addSchema(JSON.parse(readFileSync(join(dir, f), 'utf8')));
	for (const f of files) {
		const s = JSON.parse(readFileSync(join(dir, f), 'utf8'));
		try {
			ajv.getSchema(s.$id);
			if (s.$schema !== 'https://json-schema.org/draft/2020-12/schema')
				fail(`${f}: $schema is not JSON Schema 2020-12`);
		} catch (e) {
			fail(`${f}: ${e.message}`);
		}
	}
	// The components of both API documents must compile too.
	try {
		openapi();
		for (const n of Object.keys(openapi().doc.components.schemas))
			openapi().ajv.getSchema(`eb:openapi#/$defs/${n}`);
	} catch (e) {
		fail(`openapi.yaml: ${e.message}`);
	}
	try {
		asyncapi();
	} catch (e) {
		fail(`asyncapi.yaml: ${e.message}`);
	}
	console.log(`schemas: ${files.length} JSON Schemas and the components of openapi.yaml and asyncapi.yaml compile`);
}

async function cmdAsyncapi() {
	const { Parser } = await import('@asyncapi/parser');
	const parser = new Parser();
	const text = readFileSync(join(docs, 'asyncapi.yaml'), 'utf8');
	const { document, diagnostics } = await parser.parse(text, { source: join(docs, 'asyncapi.yaml') });
	// Severity 0 is an error, 1 a warning: both fail, so the document stays clean.
	for (const d of diagnostics.filter((x) => x.severity <= 1))
		fail(`asyncapi.yaml: ${d.code}: ${d.message} at ${(d.path || []).join('.')}`);
	if (!document)
		fail('asyncapi.yaml: the parser produced no document');
	else
		console.log(`asyncapi.yaml: AsyncAPI ${document.version()}, ${document.allMessages().length} messages, ${diagnostics.length} hints`);
}

function cmdReport(schemaName, files) {
	const dir = join(docs, 'schemas');
	const ajv = newAjv();
	for (const f of readdirSync(dir).filter((x) => x.endsWith('.json')))
		ajv.addSchema(JSON.parse(readFileSync(join(dir, f), 'utf8')));
	const id = JSON.parse(readFileSync(join(dir, schemaName), 'utf8')).$id;
	const v = ajv.getSchema(id);
	for (const f of files) {
		let data;
		try {
			data = JSON.parse(readFileSync(f, 'utf8'));
		} catch (e) {
			fail(`${f}: ${e.message}`);
			continue;
		}
		if (!v(data))
			fail(`${f} against ${schemaName}: ${errText(v.errors)}`);
	}
	console.log(`report: ${files.length} file(s) checked against ${schemaName}`);
}

// tap-waivers.txt: [kind, substring, why] of messages that are not protocol
// messages on purpose (escaping and truncation tests of the encoders).
function loadWaivers() {
	return readFileSync(join(here, 'tap-waivers.txt'), 'utf8').split('\n')
		.filter((l) => l && !l.startsWith('#'))
		.map((l) => {
			const [kind, text, why] = l.split('\t');
			return { kind, text, why, used: 0 };
		});
}

function cmdMessages(dir, need) {
	const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
	const seen = new Map();
	const waivers = loadWaivers();
	let waived = 0;
	const { doc, responseCheck } = openapi();
	const sch = (name) => openapi().ajv.getSchema(`eb:openapi#/$defs/${name}`);
	for (const f of files) {
		const m = /^(.*)-[A-Za-z0-9]{6}\.json$/.exec(f);
		const kind = m ? m[1] : f;
		seen.set(kind, (seen.get(kind) || 0) + 1);
		let data, text;
		try {
			text = readFileSync(join(dir, f), 'utf8');
			data = JSON.parse(text);
		} catch (e) {
			fail(`${f}: not JSON: ${e.message}`);
			continue;
		}
		const before = problems.length;
		checkMessage(f, kind, data);
		const w = problems.length > before && waivers.find((x) => x.kind === kind && text.includes(x.text));
		if (w) {
			problems.length = before;
			w.used++;
			waived++;
		}
	}
	for (const w of waivers)
		if (!w.used)
			fail(`tap-waivers.txt: the waiver for ${w.kind} (${w.why}) matched no failing message`);
	for (const k of need)
		if (!seen.has(k))
			fail(`no message of kind ${k} was encoded (is the tap linked?)`);
	console.log(`messages: ${files.length} encoded messages checked (${waived} waived as escaping tests): ${[...seen].map(([k, n]) => `${k} ${n}`).join(', ')}`);
}

function checkMessage(f, kind, data) {
	const { doc, responseCheck } = openapi();
	const sch = (name) => openapi().ajv.getSchema(`eb:openapi#/$defs/${name}`);
	{
		let v = null;
		if (kind === 'sync-request')
			v = sch('SyncRequest');
		else if (kind === 'sync-response')
			v = sch('SyncResponse');
		else if (kind === 'limits')
			v = sch('Limits');
		else if (kind.startsWith('error-')) {
			const status = kind.slice(6);
			// The error statuses every route shares, as the sync operation lists them.
			const resp = doc.paths['/api/stores/{storeId}/sync'].post.responses[status];
			if (!resp) {
				fail(`${f}: an error body for status ${status}, which docs/openapi.yaml does not define (code ${data && data.code})`);
				return;
			}
			v = responseCheck(resp).validate;
		} else if (kind.startsWith('ws-')) {
			checkWsMessage(data, f);
			if (data && data.type !== kind.slice(3))
				fail(`${f}: type "${data && data.type}" written by the ${kind.slice(3)} encoder`);
			return;
		} else {
			fail(`${f}: unknown kind ${kind}`);
			return;
		}
		if (!v(data))
			fail(`${f}: ${errText(v.errors)}`);
	}
}

// "\xNN" escapes of the wire log back to bytes (the form is for reading: a
// literal backslash is not escaped, which JSON bodies of the kit never hold
// before an "x" and two hex digits).
function unescapeWire(t) {
	const bytes = [];
	const buf = Buffer.from(t, 'utf8');
	for (let i = 0; i < buf.length; i++) {
		if (buf[i] === 0x5c && buf[i + 1] === 0x78 && i + 3 < buf.length + 0 &&
		    /^[0-9A-F]{2}$/.test(buf.toString('latin1', i + 2, i + 4))) {
			bytes.push(parseInt(buf.toString('latin1', i + 2, i + 4), 16));
			i += 3;
		} else {
			bytes.push(buf[i]);
		}
	}
	return Buffer.from(bytes).toString('utf8');
}

const TRUNC = /\[\.\.\. \d+ bytes more\]$/;

function parseHttpResponse(text) {
	const truncated = TRUNC.test(text);
	const raw = unescapeWire(truncated ? text.replace(TRUNC, '') : text);
	const sep = raw.indexOf('\r\n\r\n');
	const head = sep >= 0 ? raw.slice(0, sep) : raw;
	const body = sep >= 0 ? raw.slice(sep + 4) : '';
	const lines = head.split('\r\n');
	const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]);
	if (!m)
		return null;
	const headers = {};
	for (const l of lines.slice(1)) {
		const i = l.indexOf(':');
		if (i > 0)
			headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
	}
	return { status: Number(m[1]), headers, body, truncated: truncated || sep < 0 };
}

function cmdWire(file, minHttp, minWs, needStatus, needWs) {
	const wsTypes = new Set();
	const report = JSON.parse(readFileSync(file, 'utf8'));
	let nHttp = 0, nWs = 0, nSkipped = 0, nClose = 0;
	const statuses = new Map();
	const closeCodes = new Set(Object.keys(asyncapi().doc.info['x-close-codes']).map(Number));
	for (const c of report.cases) {
		const pending = new Map(); // conn -> FIFO of "METHOD PATH"
		for (const w of c.wire || []) {
			const where = `${c.id} conn ${w.conn} t=${w.tUs}us`;
			if (w.proto === 'HTTP' && w.dir === 'out') {
				const m = /^([A-Z]+) (\S+) HTTP\/1\.[01]/.exec(w.text);
				if (!pending.has(w.conn))
					pending.set(w.conn, []);
				pending.get(w.conn).push(m ? { method: m[1], path: m[2] } : null);
			} else if (w.proto === 'HTTP' && w.dir === 'in') {
				const req = (pending.get(w.conn) || []).shift();
				const r = parseHttpResponse(w.text);
				if (!req || !r) {
					nSkipped++;
					continue;
				}
				if (checkHttp({ ...req, ...r }, where)) {
					nHttp++;
					statuses.set(r.status, (statuses.get(r.status) || 0) + 1);
				} else {
					nSkipped++;
				}
			} else if (w.proto === 'WS' && w.dir === 'in') {
				const cm = /^\[close (\d+)/.exec(w.text);
				if (cm) {
					nClose++;
					if (!closeCodes.has(Number(cm[1])))
						fail(`${where}: close code ${cm[1]} is not in asyncapi.yaml's close codes`);
					continue;
				}
				// ebconform's WebSocket log cuts messages at 4096 bytes without the
				// "[... N bytes more]" marker, so an entry of that length is cut.
				if (!w.text.startsWith('{') || TRUNC.test(w.text) || w.text.length >= 4096) {
					nSkipped++;
					continue;
				}
				let msg;
				try {
					msg = JSON.parse(unescapeWire(w.text));
				} catch (e) {
					fail(`${where}: a server message that is not JSON: ${w.text.slice(0, 80)}`);
					continue;
				}
				checkWsMessage(msg, where);
				wsTypes.add(msg && msg.type);
				nWs++;
			}
		}
	}
	if (nHttp < minHttp)
		fail(`${file}: only ${nHttp} HTTP answers sampled, expected at least ${minHttp}`);
	for (const t of needWs)
		if (!wsTypes.has(t))
			fail(`${file}: no server WebSocket message of type ${t} sampled`);
	for (const st of needStatus)
		if (!statuses.has(st))
			fail(`${file}: no answer with status ${st} sampled`);
	if (nWs < minWs)
		fail(`${file}: only ${nWs} server WebSocket messages sampled, expected at least ${minWs}`);
	console.log(`wire: ${nHttp} HTTP answers (statuses ${[...statuses].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}:${n}`).join(' ')}), ` +
		`${nWs} server WebSocket messages and ${nClose} closes checked; ${nSkipped} truncated or not protocol left out`);
}

function cmdHttp(file) {
	const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim());
	let n = 0;
	for (const [i, l] of lines.entries()) {
		const s = JSON.parse(l);
		if (checkHttp(s, `${basename(file)}:${i + 1}`))
			n++;
	}
	console.log(`http: ${n} samples checked`);
}

// One command line (as an array) of the synchronous commands.
function runSync(cmd, args) {
	const opt = (name, dflt) => {
		const i = args.indexOf(name);
		return i >= 0 ? args.splice(i, 2)[1] : dflt;
	};
	if (cmd === 'schemas') {
		cmdSchemas();
	} else if (cmd === 'report' && args.length >= 2) {
		cmdReport(args[0], args.slice(1));
	} else if (cmd === 'messages' && args.length >= 1) {
		const i = args.indexOf('--need');
		const need = i >= 0 ? args.splice(i).slice(1) : [];
		cmdMessages(args[0], need);
	} else if (cmd === 'wire' && args.length >= 1) {
		const minHttp = Number(opt('--min-http', 0));
		const minWs = Number(opt('--min-ws', 0));
		const need = opt('--need-status', '').split(',').filter((x) => x).map(Number);
		const needWs = opt('--need-ws', '').split(',').filter((x) => x);
		cmdWire(args[0], minHttp, minWs, need, needWs);
	} else if (cmd === 'http' && args.length === 1) {
		cmdHttp(args[0]);
	} else {
		return false;
	}
	return true;
}

// batch FILE: one check per line, "ok<TAB>COMMAND<TAB>ARG..." must pass and
// "bad<TAB>WHAT<TAB>COMMAND<TAB>ARG..." must fail (a drift the schemas must
// catch), in one process instead of one node start per check.
function cmdBatch(file) {
	for (const line of readFileSync(file, 'utf8').split('\n').filter((l) => l.trim())) {
		const [want, ...rest] = line.split('\t');
		if (want === 'ok') {
			if (!runSync(rest[0], rest.slice(1)))
				fail(`batch: bad line ${line}`);
		} else if (want === 'bad') {
			const before = problems.length;
			const log = console.log;
			console.log = () => {};
			try {
				runSync(rest[1], rest.slice(2));
			} catch (e) {
				fail(e.message);
			} finally {
				console.log = log;
			}
			if (problems.length === before)
				fail(`drift not caught: ${rest[0]} validates`);
			else
				problems.length = before;
		} else {
			fail(`batch: bad line ${line}`);
		}
	}
}

const [cmd, ...args] = process.argv.slice(2);
try {
	if (cmd === 'asyncapi') {
		await cmdAsyncapi();
	} else if (cmd === 'batch' && args.length === 1) {
		cmdBatch(args[0]);
	} else if (runSync(cmd, args)) {
		// done
	} else {
		console.error('usage: ebvalidate.mjs schemas | asyncapi | report SCHEMA FILE... | messages DIR [--need KIND...] | wire REPORT [--min-http N] [--min-ws N] | http SAMPLES.jsonl | batch FILE');
		process.exit(2);
	}
} catch (e) {
	fail(`${cmd}: ${e.stack || e.message}`);
}
for (const m of problems.slice(0, 60))
	console.log(`FAIL: ${m}`);
if (problems.length > 60)
	console.log(`FAIL: ... and ${problems.length - 60} more`);
process.exit(problems.length ? 1 : 0);
