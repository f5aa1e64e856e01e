# The tree stays clang-format clean (Linux kernel style, .clang-format).
name="style: clang-format clean"
if ! command -v clang-format >/dev/null; then
	skip "$name" "clang-format is not installed"
elif make -s format-check >"$WORK/format.log" 2>&1; then
	pass "$name"
else
	fail "$name" "run make format" "$WORK/format.log"
fi
