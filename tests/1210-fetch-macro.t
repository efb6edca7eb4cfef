#!/bin/sh
# bt-fetch --source macro against the FRED test server: the configured
# series into macro_data keyed (series, date), "." as NULL, revisions
# replacing old values, retries, and the API key in no output and no file.
. "$(dirname "$0")/lib.sh"

KEY=0123456789abcdefghijklmnopqrstuv
start_server fred --data $DATA/fred.json --key $KEY --ctl $TRASH/fred.ctl --now 2025-05-01
printf '%s\n' $KEY >$TRASH/fred.key
chmod 600 $TRASH/fred.key
export BT_FRED_URL=$fred_URL FRED_API_KEY_FILE=$TRASH/fred.key BT_NOW=2025-05-01T02:00:00Z
DB=$BT_HOME/db/crypto_agent.db
ST=$BT_HOME/db/bt_state.db

fresh() {
	rm -rf $BT_HOME
	ctl fred "{\"now\":\"${1:-2025-05-01}\"}"
	: >$TRASH/fred.log
}
# No trace of the key: not in these files, not in any file under BT_HOME.
no_key() {
	for f in "$@"; do
		if grep -q -a "$KEY" "$f"; then
			echo "the key is in $f" >&2
			return 1
		fi
	done
	if grep -r -l -a "$KEY" $BT_HOME; then
		echo "the key is in a file under BT_HOME" >&2
		return 1
	fi
}
# The stored series against the data file: every date, NULL for ".".
check_file() {	# check_file [REVISE_JSON]
	python3 - $DATA/fred.json "$DB" "${1:-{\}}" <<-'EOF'
	import datetime, json, sqlite3, sys
	data = json.load(open(sys.argv[1]))
	revise = json.loads(sys.argv[3])
	db = sqlite3.connect("file:%s?mode=ro" % sys.argv[2], uri=True)
	for sid, rows in data.items():
	    d = dict(rows)
	    d.update(revise.get(sid, {}))
	    want = [(k, None if v == "." else float(v)) for k, v in sorted(d.items())]
	    got = [(datetime.datetime.fromtimestamp(t // 1000, datetime.timezone.utc).strftime("%Y-%m-%d"), v)
	           for t, v in db.execute("select date, value from macro_data where series=? order by date", (sid,))]
	    assert got == want, (sid, len(got), len(want), [x for x in zip(got, want) if x[0] != x[1]][:3])
	EOF
}

test_expect_success 'the five default series, "." stored as NULL' '
	fresh &&
	test_expect_code 0 bt-fetch --source macro >out 2>err &&
	test "$(sql $DB "select count(*) from macro_data")" = $((85 * 4 + 119)) &&
	test "$(sql $DB "select count(*) from macro_data where series=\"DGS10\" and value is null")" = 3 &&
	test "$(sql $DB "select count(*) from macro_data where value = 0")" = 0 &&
	test "$(sql $DB "select value is null from macro_data where series=\"DGS10\" and date=1737331200000")" = 1 &&
	check_file &&
	json_has out "select(.event==\"series\" and .series==\"DGS10\") | .status==\"ok\" and .observations==85 and .missing==3 and .new==85 and .revised==0 and .first==\"2025-01-02\" and .last==\"2025-04-30\" and .requests==1" &&
	json_has out "select(.event==\"series\" and .series==\"DFF\") | .observations==119 and .missing==0" &&
	json_has out "select(.event==\"summary\") | .mode==\"macro\" and .series==5 and .failed==0 and .rows==$((85 * 4 + 119)) and .exit==0" &&
	test "$(sql $ST "select job, exit from runs")" = "macro|0" &&
	grep -q "\"file_type\": *\"json\"" $TRASH/fred.log &&
	grep -q "\"observation_start\": *\"2024-05-01\"" $TRASH/fred.log &&
	no_key out err
'

test_expect_success 'a second run changes nothing' '
	test_expect_code 0 bt-fetch --source macro >out &&
	json_has out "select(.event==\"summary\") | .rows==0" &&
	json_has out "select(.event==\"series\") | .new==0 and .revised==0"
'

test_expect_success 'a revision replaces the old value; a late "." filled too' '
	rev="{\"DGS10\":{\"2025-01-02\":\"4.60\",\"2025-01-20\":\"4.58\"},\"VIXCLS\":{\"2025-01-09\":\"17.5\"}}" &&
	ctl fred "{\"now\":\"2025-05-01\",\"revise\":$rev}" &&
	BT_NOW=2025-05-02T02:00:00Z test_expect_code 0 bt-fetch --source macro >out &&
	json_has out "select(.event==\"series\" and .series==\"DGS10\") | .revised==2 and .new==0 and .missing==2" &&
	json_has out "select(.event==\"series\" and .series==\"VIXCLS\") | .revised==1" &&
	json_has out "select(.event==\"summary\") | .rows==3" &&
	test "$(sql $DB "select value, updated from macro_data where series=\"DGS10\" and date=1735776000000")" = "4.6|1746151200000" &&
	check_file "$rev"
'

test_expect_success 'new releases: only what was published by then, then the rest' '
	fresh 2025-02-28 &&
	BT_NOW=2025-02-28T02:00:00Z test_expect_code 0 bt-fetch --source macro >out &&
	json_has out "select(.event==\"series\" and .series==\"DGS10\") | .last==\"2025-02-28\"" &&
	ctl fred "{\"now\":\"2025-05-01\"}" &&
	test_expect_code 0 bt-fetch --source macro >out &&
	json_has out "select(.event==\"series\" and .series==\"DGS10\") | .new > 0 and .revised==0" &&
	check_file
'

test_expect_success 'retries: two 500s are retried; 429 with Retry-After too' '
	fresh &&
	ctl fred "{\"now\":\"2025-05-01\",\"faults\":[{\"series_id\":\"DGS10\",\"fault\":\"status\",\"code\":500,\"times\":2},{\"series_id\":\"DFF\",\"fault\":\"status\",\"code\":429,\"retry_after\":0}]}" &&
	test_expect_code 0 bt-fetch --source macro >out 2>err &&
	json_has out "select(.event==\"series\" and .series==\"DGS10\") | .status==\"ok\" and .retries==2 and .requests==3" &&
	json_has out "select(.event==\"series\" and .series==\"DFF\") | .status==\"ok\" and .retries==1" &&
	check_file
'

test_expect_success 'a series failing four times: 69 and a WARNING; the others stored' '
	fresh &&
	ctl fred "{\"now\":\"2025-05-01\",\"faults\":[{\"series_id\":\"DTWEXBGS\",\"fault\":\"status\",\"code\":503,\"times\":-1}]}" &&
	test_expect_code 69 bt-fetch -v --source macro >out 2>err &&
	json_has out "select(.event==\"series\" and .series==\"DTWEXBGS\") | .status==\"failed\" and .retries==3 and .requests==4" &&
	json_has out "select(.event==\"macro_failed\") | .severity==\"WARNING\" and .series==\"DTWEXBGS\"" &&
	test "$(grep -c DTWEXBGS $TRASH/fred.log)" = 4 &&
	test "$(sql $DB "select count(distinct series) from macro_data")" = 4 &&
	grep -q "try 2 of 4" err &&
	no_key out err
'

# (libcurl itself resends a request once when a reused connection turns
# out dead, so a reset may be absorbed without a retry of ours.)
test_expect_success 'a reset connection and a cut body are retried, never stored half' '
	fresh &&
	ctl fred "{\"now\":\"2025-05-01\",\"faults\":[{\"series_id\":\"DFF\",\"fault\":\"reset\",\"times\":1},{\"series_id\":\"T10Y2Y\",\"fault\":\"truncate\",\"times\":-1}]}" &&
	test_expect_code 69 bt-fetch -v --source macro >out 2>err &&
	json_has out "select(.event==\"series\" and .series==\"DFF\") | .status==\"ok\" and .observations==119" &&
	test "$(grep -c "DFF.*\"fault\": *\"reset\"" $TRASH/fred.log)" = 1 &&
	json_has out "select(.event==\"series\" and .series==\"T10Y2Y\") | .status==\"failed\" and .retries==3" &&
	test "$(sql $DB "select count(*) from macro_data where series=\"T10Y2Y\"")" = 0 &&
	no_key out err $TRASH/fred.stderr
'

test_expect_success 'an answer that is not FRED'"'"'s JSON is bad data (65)' '
	fresh &&
	ctl fred "{\"now\":\"2025-05-01\",\"faults\":[{\"series_id\":\"VIXCLS\",\"fault\":\"status\",\"code\":200,\"body\":{\"observations\":[{\"date\":\"2025-01-02\",\"value\":\"abc\"}]}}]}" &&
	test_expect_code 65 bt-fetch --source macro >out &&
	json_has out "select(.event==\"series\" and .series==\"VIXCLS\") | .status==\"failed\" and (.error | test(\"not a number\"))" &&
	test "$(sql $DB "select count(*) from macro_data where series=\"VIXCLS\"")" = 0
'

test_expect_success 'an unknown series or a refused key: FRED'"'"'s message, 78' '
	fresh &&
	BT_FRED_SERIES="DGS10 NOSUCHSERIES" test_expect_code 78 bt-fetch --source macro >out 2>err &&
	json_has out "select(.event==\"series\" and .series==\"NOSUCHSERIES\") | .status==\"failed\" and (.error | test(\"The series does not exist\"))" &&
	test "$(sql $DB "select count(*) from macro_data where series=\"DGS10\"")" = 85 &&
	printf "%s\n" 0123456789abcdefghijklmnopqrstuw >$TRASH/other.key && chmod 600 $TRASH/other.key &&
	FRED_API_KEY_FILE=$TRASH/other.key test_expect_code 78 bt-fetch -v --source macro >out 2>err &&
	json_has out "select(.event==\"series\") | .error | test(\"api_key is not registered\")" &&
	! grep -q 0123456789abcdefghijklmnopqrstuw out err &&
	grep -r -l -a 0123456789abcdefghijklmnopqrstuw $BT_HOME >found || true &&
	test ! -s found
'

test_expect_success 'the key file must be the owner'"'"'s alone; no key is 78' '
	chmod 644 $TRASH/fred.key &&
	test_expect_code 78 bt-fetch --source macro 2>err &&
	grep -q "FRED_API_KEY_FILE: .* is mode 644" err &&
	chmod 600 $TRASH/fred.key &&
	FRED_API_KEY_FILE= test_expect_code 78 bt-fetch --source macro 2>err &&
	grep -q "no FRED_API_KEY configured" err &&
	BT_FRED_SERIES="DGS10 bad-id" test_expect_code 78 bt-fetch --source macro 2>err &&
	grep -q "BT_FRED_SERIES: .bad-id. is not a FRED series id" err
'

test_expect_success 'the key from the environment (ad hoc) is kept out of output too' '
	fresh &&
	FRED_API_KEY_FILE= FRED_API_KEY=$KEY test_expect_code 0 bt-fetch -v --source macro >out 2>err &&
	json_has out "select(.event==\"summary\") | .exit==0" &&
	no_key out err
'

test_expect_success 'the key never reaches the command line of anything bt runs' '
	fresh &&
	strace -f -e trace=execve -o $TRASH/trace bt-fetch --source macro >out 2>err || true &&
	test -s $TRASH/trace &&
	! grep -q "$KEY" $TRASH/trace
'

test_expect_success '--if-due: the 02:00 slot (BT_MACRO_SLOT)' '
	fresh &&
	BT_NOW=2025-05-01T01:30:00Z test_expect_code 0 bt-fetch --source macro --if-due >out &&
	json_has out "select(.event==\"summary\")" &&
	BT_NOW=2025-05-01T02:05:00Z test_expect_code 0 bt-fetch --source macro --if-due >out &&
	json_has out "select(.event==\"summary\")" &&
	BT_NOW=2025-05-01T07:05:00Z test_expect_code 0 bt-fetch --source macro --if-due >out &&
	json_has out "select(.event==\"not_due\") | .job==\"macro\"" &&
	BT_MACRO_SLOT=08:00 BT_NOW=2025-05-01T08:05:00Z test_expect_code 0 bt-fetch --source macro --if-due >out &&
	json_has out "select(.event==\"summary\")"
'

test_expect_success 'a dry run stores nothing' '
	fresh &&
	test_expect_code 0 bt-fetch -n --source macro >out &&
	test "$(sql $DB "select count(*) from macro_data")" = 0 &&
	json_has out "select(.event==\"series\" and .series==\"DGS10\") | .observations==85"
'

test_done
