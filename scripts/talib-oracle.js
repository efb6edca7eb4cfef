#!/usr/bin/env node
/*
 * talib-oracle.js - reference values for bt_ind.c from TA-Lib itself.
 *
 * Writes tests/data/talib/btc-1h.json, the fixture tests/unit/ind-test.c
 * checks against, so the suite needs no Node.  Not run by the suite.
 *
 * TA-Lib comes from the npm package talib 2.0.5, which bundles TA-Lib's
 * C source (0.6.0-dev, TA_EPSILON 1e-14).  Build it as
 * /work/shared/docs/talib-oracle.md says (as root, Node 20, npm only):
 *
 *	mkdir -p /tmp/talib && cd /tmp/talib && npm init -y >/dev/null
 *	npm install --ignore-scripts talib@2.0.5
 *	cd node_modules/talib
 *	rm -rf src/lib/temp/csr/*.o src/lib/lib/*.a build
 *	node ./src/lib/build.js
 *	npm_config_nodedir=/usr npx node-gyp configure
 *	npm_config_nodedir=/usr npx node-gyp build
 *
 * (`npx node-gyp' wants to download node-gyp 12; the copy bundled with npm
 * works as well: node /usr/lib/node_modules/npm/node_modules/node-gyp/bin/
 * node-gyp.js configure, then build.)  Then, from the repository root:
 *
 *	NODE_PATH=/tmp/talib/node_modules node scripts/talib-oracle.js
 *
 * Inputs: the first ROWS candles of tests/data/freqtrade/BTC_USDT-1h.json
 * (high, low, close), the same close scaled by 1e-9 (a sub-1e-4 "coin",
 * where TA-Lib's absolute epsilon matters), flat series and a short one.
 * Every case is computed from index 0 (TA-Lib's results depend on
 * startIdx).  Values are written as JavaScript prints doubles (shortest
 * round-trip form), so strtod gives back the exact bits.
 */
'use strict';

const fs = require('fs');
const path = require('path');
const talib = require('talib');

const ROOT = path.resolve(__dirname, '..');
const SRC = 'tests/data/freqtrade/BTC_USDT-1h.json';
const OUT = 'tests/data/talib/btc-1h.json';
const ROWS = Number(process.env.ROWS || 2200);

const rows = JSON.parse(fs.readFileSync(path.join(ROOT, SRC), 'utf8'))
    .slice(0, ROWS);
const inputs = {
	high: rows.map((r) => r[2]),
	low: rows.map((r) => r[3]),
	close: rows.map((r) => r[4]),
};
inputs.tiny = inputs.close.map((v) => v * 1e-9);
inputs.flat = new Array(60).fill(100.25);
/* Flat too, but x*x is inexact: E[x^2] - E[x]^2 is rounding noise. */
inputs.flat2 = new Array(60).fill(19131.87);
inputs.short = inputs.close.slice(0, 12);

/* name, TA-Lib inputs, options, bt input arrays */
const cases = [];
function add(name, opt, ins) {
	cases.push({ name, opt, ins: ins || ['close'] });
}
for (const p of [2, 10, 20, 30, 50, 200])
	add('SMA', { optInTimePeriod: p });
for (const p of [2, 12, 26, 50])
	add('EMA', { optInTimePeriod: p });
for (const p of [2, 14])
	add('RSI', { optInTimePeriod: p });
add('RSI', { optInTimePeriod: 14 }, ['flat']);
add('RSI', { optInTimePeriod: 14 }, ['tiny']);
for (const [p, u, d] of [[20, 2, 2], [5, 2, 2], [2, 2, 2], [20, 1, 1],
    [20, 2.5, 1.5], [20, 1, 3], [20, 3, 1]])
	add('BBANDS', { optInTimePeriod: p, optInNbDevUp: u,
	    optInNbDevDn: d, optInMAType: 0 });
add('BBANDS', { optInTimePeriod: 20, optInNbDevUp: 2, optInNbDevDn: 2,
    optInMAType: 0 }, ['flat']);
add('BBANDS', { optInTimePeriod: 20, optInNbDevUp: 2, optInNbDevDn: 2,
    optInMAType: 0 }, ['flat2']);
add('BBANDS', { optInTimePeriod: 20, optInNbDevUp: 2, optInNbDevDn: 2,
    optInMAType: 0 }, ['tiny']);
add('BBANDS', { optInTimePeriod: 5, optInNbDevUp: 2, optInNbDevDn: 2,
    optInMAType: 0 }, ['tiny']);
add('RSI', { optInTimePeriod: 14 }, ['flat2']);
for (const p of [1, 2, 14])
	add('ATR', { optInTimePeriod: p }, ['high', 'low', 'close']);
add('ATR', { optInTimePeriod: 14 }, ['flat', 'flat', 'flat']);
/*
 * Signal 1 is in TA-Lib's range but broken (EMA lookback of 1 is -1: the
 * first MACD value is read from before the buffer, the signal line is two
 * bars early); kept to show it, bt refuses it.
 */
for (const [f, s, g] of [[12, 26, 9], [26, 12, 9], [5, 35, 5],
    [12, 26, 2], [2, 3, 2], [12, 12, 9], [12, 26, 1], [2, 3, 1]])
	add('MACD', { optInFastPeriod: f, optInSlowPeriod: s,
	    optInSignalPeriod: g });
for (const p of [2, 20])
	add('MAX', { optInTimePeriod: p }, ['high']);
for (const p of [2, 20])
	add('MIN', { optInTimePeriod: p }, ['low']);
add('MAX', { optInTimePeriod: 20 });
add('MIN', { optInTimePeriod: 20 });
/* Too short: TA-Lib returns no elements (bt returns -1). */
add('SMA', { optInTimePeriod: 20 }, ['short']);
add('RSI', { optInTimePeriod: 14 }, ['short']);
add('MACD', { optInFastPeriod: 12, optInSlowPeriod: 26,
    optInSignalPeriod: 9 }, ['short']);
/* Out of TA-Lib's ranges: TA-Lib fails (bt returns -1). */
for (const n of ['SMA', 'EMA', 'RSI', 'MAX', 'MIN'])
	add(n, { optInTimePeriod: 1 });
add('ATR', { optInTimePeriod: 0 }, ['high', 'low', 'close']);
add('BBANDS', { optInTimePeriod: 1, optInNbDevUp: 2, optInNbDevDn: 2,
    optInMAType: 0 });
add('MACD', { optInFastPeriod: 1, optInSlowPeriod: 26,
    optInSignalPeriod: 9 });
add('MACD', { optInFastPeriod: 12, optInSlowPeriod: 26,
    optInSignalPeriod: 0 });

const ATRIN = ['high', 'low', 'close'];
const out = {
	source: SRC,
	rows: rows.length,
	first_open_ms: rows[0][0],
	talib: 'npm talib@2.0.5 (binding ' + talib.version +
	    '), bundled TA-Lib C 0.6.0-dev, TA_EPSILON 1e-14',
	generator: 'scripts/talib-oracle.js',
	inputs,
	cases: [],
};
for (const c of cases) {
	const n = inputs[c.ins[0]].length;
	const p = { name: c.name, startIdx: 0, endIdx: n - 1, ...c.opt };
	if (c.ins.length === 3)
		c.ins.forEach((v, i) => { p[ATRIN[i]] = inputs[v]; });
	else
		p.inReal = inputs[c.ins[0]];
	const rec = { name: c.name, opt: c.opt, in: c.ins };
	try {
		const r = talib.execute(p);
		rec.begIndex = r.begIndex;
		rec.nbElement = r.nbElement;
		rec.out = r.result;
		if (c.name === 'MACD' && c.opt.optInSignalPeriod === 1) {
			/* Its first value is whatever precedes a malloc block. */
			delete rec.out;
			rec.note = 'TA-Lib bug: signal 1 misaligned, not kept';
		}
	} catch (e) {
		rec.error = String(e.message || e);
	}
	out.cases.push(rec);
}

fs.mkdirSync(path.dirname(path.join(ROOT, OUT)), { recursive: true });
/* One case per line keeps diffs of a regenerated fixture readable. */
let s = '{\n';
for (const k of Object.keys(out)) {
	if (k === 'cases')
		continue;
	if (k === 'inputs') {
		s += '"inputs": {\n' + Object.keys(inputs).map((i) =>
		    JSON.stringify(i) + ': ' + JSON.stringify(inputs[i]))
		    .join(',\n') + '\n},\n';
	} else
		s += JSON.stringify(k) + ': ' + JSON.stringify(out[k]) + ',\n';
}
s += '"cases": [\n' + out.cases.map((c) => JSON.stringify(c)).join(',\n') +
    '\n]\n}\n';
fs.writeFileSync(path.join(ROOT, OUT), s);
process.stderr.write(OUT + ': ' + out.cases.length + ' cases, ' +
    s.length + ' bytes\n');
