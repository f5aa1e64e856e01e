# Fuzz smoke: every libFuzzer target runs briefly from its seeds; a crash,
# leak or sanitizer report fails it. make fuzz runs them for longer.
seeds=$WORK/fuzz-seeds
python3 fuzz/make-seeds.py "$PROBES" "$seeds"
for bin in build/fuzz/*; do
	t=$(basename "$bin")
	name="fuzz smoke: $t (${FUZZ_SMOKE:-5} s)"
	if [ ! -x "$bin" ]; then
		continue
	fi
	mkdir -p "$WORK/corpus-$t"
	if "$bin" -max_total_time="${FUZZ_SMOKE:-5}" -print_final_stats=1 "$WORK/corpus-$t" \
		"$seeds/$t" >"$WORK/fuzz-$t.log" 2>&1; then
		execs=$(grep -o 'number_of_executed_units: *[0-9]*' "$WORK/fuzz-$t.log" | tr -dc '0-9')
		cov=$(grep -o 'cov: [0-9]*' "$WORK/fuzz-$t.log" | tail -1)
		pass "$name: $execs execs, $cov"
	else
		fail "$name" "the fuzzer found a crash" "$WORK/fuzz-$t.log"
	fi
done
