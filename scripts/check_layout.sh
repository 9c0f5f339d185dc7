#!/usr/bin/env bash
# The size rules of the sources outside tests/: no file over 700 lines, no
# function over 80 (function extents from Universal Ctags, Debian's
# universal-ctags). Prints each breach; exits 1 if there is one.
#
#   scripts/check_layout.sh
#   MAX_FILE_LINES=600 MAX_FUNCTION_LINES=60 scripts/check_layout.sh   # stricter
set -euo pipefail
cd "$(dirname "$0")/.."
command -v ctags >/dev/null && ctags --version 2>/dev/null | grep -q "Universal Ctags" || {
  echo "check_layout.sh: needs Universal Ctags (apt-get install universal-ctags)" >&2
  exit 2
}
max_file=${MAX_FILE_LINES:-700}
max_function=${MAX_FUNCTION_LINES:-80}
breaches=0
while read -r lines file; do
  if [ "$file" != total ] && [ "$lines" -gt "$max_file" ]; then
    echo "$file: $lines lines (at most $max_file)"
    breaches=$((breaches + 1))
  fi
done < <(wc -l include/bohmflow/*.hpp src/*.cpp src/*.hpp apps/*.cpp apps/*.hpp)
# ctags -x-like fields: name, file, then line:N and end:N for each function definition.
while IFS=$'\t' read -r name file _ kind rest; do
  [ "$kind" = f ] || continue
  line=$(grep -o 'line:[0-9]*' <<<"$rest" | cut -d: -f2)
  end=$(grep -o 'end:[0-9]*' <<<"$rest" | cut -d: -f2)
  [ -n "$line" ] && [ -n "$end" ] || continue
  if [ $((end - line + 1)) -gt "$max_function" ]; then
    echo "$file:$line: $name has $((end - line + 1)) lines (at most $max_function)"
    breaches=$((breaches + 1))
  fi
done < <(ctags --fields=+ne --c++-kinds=+f --languages=C++ -f - -R include src apps)
echo "check_layout.sh: $breaches breach(es)"
[ "$breaches" -eq 0 ]
