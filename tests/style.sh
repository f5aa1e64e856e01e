# The tree stays clang-format clean (Linux kernel style, .clang-format).
name="style: clang-format clean"
if ! command -v clang-format >/dev/null; then
	skip "$name" "clang-format is not installed"
elif make -s format-check >"$WORK/format.log" 2>&1; then
	pass "$name"
else
	fail "$name" "run make format" "$WORK/format.log"
fi

# Small enough to review: no file over 700 lines, no function over 80
# (a function is a column-0 header with "(", a column-0 "{" and "}").
name="style: no C file over 700 lines, no function over 80"
git ls-files '*.c' '*.h' | xargs awk '
	FNR == 1 { head = ""; open = 0 }
	FNR == 701 { print FILENAME ": over 700 lines" }
	/^[A-Za-z_].*\(/ && !/;$/ { head = $0 }
	/^\{/ { open = FNR }
	/^\}/ && open { if (FNR - open - 1 > 80) print FILENAME ":" open ": " \
		FNR - open - 1 " lines: " head; open = 0 }' >"$WORK/size.log"
if [ -s "$WORK/size.log" ]; then
	fail "$name" "split these" "$WORK/size.log"
else
	pass "$name"
fi
