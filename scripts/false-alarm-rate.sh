#!/usr/bin/env bash
# Measures compare's false-alarm rate on this machine: N times, two --quick runs back to back
# with nothing changed in between, compared at the default threshold. Any "regressed" is a
# false alarm. Prints each repetition's verdict counts and the rate at the end.
#   scripts/false-alarm-rate.sh [REPETITIONS=20] [extra run flags...]
set -euo pipefail
cd "$(dirname "$0")/.."
reps=${1:-20}
shift || true
cargo build --release --quiet
bin=target/release/threadfork
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
alarms=0
for i in $(seq 1 "$reps"); do
    "$bin" run --quick --out "$work/a$i" "$@" >/dev/null
    "$bin" run --quick --out "$work/b$i" "$@" >/dev/null
    set +e
    "$bin" compare "$work/a$i" "$work/b$i" --json >"$work/c$i.json"
    code=$?
    set -e
    summary=$(python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print(f\"{r['regressed']} regressed, {r['improved']} improved, {r['unchanged']} unchanged, effective threshold {100*r['effective_threshold']:.1f}%\")" "$work/c$i.json")
    echo "repetition $i: exit $code: $summary"
    if [ "$code" -ne 0 ]; then
        alarms=$((alarms + 1))
        python3 -c "import json,sys; [print('    regressed:', c['workload'], c['model'], c['variant'], c['workers'], c['params'], c['metric'], f\"{100*(c['ratio']-1):+.1f}%\") for c in json.load(open(sys.argv[1]))['comparisons'] if c['verdict']=='regressed']" "$work/c$i.json"
    fi
done
echo "false alarms: $alarms of $reps comparisons"
