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
# Outside a git checkout nothing is listed: then these checks fail.
git ls-files '*.c' '*.h' | grep -q . && : >"$WORK/size.log" ||
	echo "git lists no C sources" >"$WORK/size.log"
git ls-files '*.c' '*.h' | xargs -r awk '
	FNR == 1 { head = ""; open = 0 }
	FNR == 701 { print FILENAME ": over 700 lines" }
	/^[A-Za-z_].*\(/ && !/;$/ { head = $0 }
	/^\{/ { open = FNR }
	/^\}/ && open { if (FNR - open - 1 > 80) print FILENAME ":" open ": " \
		FNR - open - 1 " lines: " head; open = 0 }' >>"$WORK/size.log"
if [ -s "$WORK/size.log" ]; then
	fail "$name" "split these" "$WORK/size.log"
else
	pass "$name"
fi

# Bash 5.2 reads an apostrophe inside "${v:-...}" as a quote: the default
# word then runs on to the next one, and every line between is skipped
# without an error (manager.sh lost its console-to-shutdown steps that way).
name="style: no apostrophe inside \${var:-...} in the shell scripts"
git ls-files '*.sh' scripts .ci | grep -q . && : >"$WORK/quote.log" ||
	echo "git lists no shell scripts" >"$WORK/quote.log"
git ls-files '*.sh' scripts .ci | xargs -r grep -nE "\\$\{[][A-Za-z_0-9@*]+:?[-=+?#%/^,][^}]*'" >>"$WORK/quote.log"
if [ -s "$WORK/quote.log" ]; then
	fail "$name" "reword these" "$WORK/quote.log"
else
	pass "$name"
fi
