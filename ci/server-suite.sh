#!/usr/bin/env bash
# Runs llama.cpp's own server test suite (the pinned source's tools/server/tests, unchanged) against
# `llama-java serve`, through the suite's LLAMA_SERVER_BIN_PATH and ci/server-suite/llama-server,
# and prints each module's passes. Build first (./mvnw -q install -DskipTests). Needs Debian's
# python3-pytest, python3-requests, python3-numpy, python3-prometheus-client, python3-wget and
# python3-filelock (Debian's /usr/bin/python3 runs them). Debian has no OpenAI Python SDK: the modules
# that import it get ci/server-suite/openai, a small stand-in that sends the same HTTP requests for the
# calls they make. The built-in tools, MCP and MCP-proxy modules are left out (issue #31 leaves them
# out); slow tests are deselected, as they need models that are not here.
# SUITE_SERVER=llama-server runs the same suite, through the same launcher and model mapping, against
# llama.cpp's own llama-server built from the same source (ci/llama-server-build.sh): the baseline.
# SUITE_EXPECT=FILE (lines MODULE::TEST, # comments) makes it a gate: it exits 1 if a listed test of a
# module it ran did not pass (CI: ci/server-suite/expected-passes.txt). Each run writes the passes to
# $logs/passed.txt, in that form.
#   ci/server-suite.sh [MODULE...]      e.g. ci/server-suite.sh test_basic test_tokenize
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
src=$(sed -n 's/^llama.source.dir=//p' "$root/native/target/llama/llama-build.properties")
[ -d "$src/tools/server/tests" ] || { echo "no llama.cpp source with tools/server/tests: build first" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
logs=${SUITE_LOGS:-$root/target/server-suite${SUITE_SERVER:+-$SUITE_SERVER}}   # each module's pytest log and JUnit XML are kept here
mkdir -p "$logs"
# the suite as it lies in the source tree (its tests read ../../../models/templates), in a copy
mkdir -p "$work/tools/server"
cp -r "$src/tools/server/tests" "$work/tools/server/tests"
ln -s "$src/models" "$work/models"
cd "$work/tools/server/tests/unit" || exit 1
skip="test_tools_builtin test_mcp_servers test_proxy"
if [ $# -gt 0 ]; then modules="$*"; else modules=$(ls test_*.py | sed 's/\.py$//'); fi
export LLAMA_SERVER_BIN_PATH=$root/ci/server-suite/llama-server
case ${SUITE_SERVER:-serve} in
  serve) unset SUITE_NATIVE_SERVER ;;
  llama-server) SUITE_NATIVE_SERVER=$("$root/ci/llama-server-build.sh") || exit 1; export SUITE_NATIVE_SERVER ;;
  *) echo "SUITE_SERVER is serve or llama-server, not ${SUITE_SERVER}" >&2; exit 2 ;;
esac
export PYTHONPATH=$root/ci/server-suite${PYTHONPATH:+:$PYTHONPATH}
export LLAMA_MODELS_DIR=${LLAMA_MODELS_DIR:-$root/../shared/models}
printf '%-28s %6s %6s %6s\n' module passed failed errors
total_p=0 total_n=0
for m in $modules; do
  case " $skip " in *" $m "*) printf '%-28s %s\n' "$m" "left out (built-in tools, MCP)"; continue ;; esac
  (cd .. && timeout 1800 /usr/bin/python3 -m pytest "unit/$m.py" -m "not slow" -q -p no:cacheprovider \
      --junitxml="$work/$m.xml" > "$work/$m.log" 2>&1)
  read -r tests failures errors skipped < <(/usr/bin/python3 - "$work/$m.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
try:
    r = ET.parse(sys.argv[1]).getroot()
    s = r if r.tag == "testsuite" else r.find("testsuite")
    print(s.get("tests"), s.get("failures"), s.get("errors"), s.get("skipped"))
except Exception:
    print(0, 0, 1, 0)
PY
)
  cp "$work/$m.log" "$work/$m.xml" "$logs/" 2>/dev/null
  passed=$((tests - failures - errors - skipped))
  total_p=$((total_p + passed)); total_n=$((total_n + tests - skipped))
  printf '%-28s %6s %6s %6s\n' "$m" "$passed" "$failures" "$errors"
done
echo "passed $total_p of $total_n run"
/usr/bin/python3 - "$logs" $modules > "$logs/passed.txt" <<'PY'
import os, sys, xml.etree.ElementTree as ET
logs, modules = sys.argv[1], sys.argv[2:]
for m in modules:
    f = os.path.join(logs, m + ".xml")
    if not os.path.exists(f):
        continue
    for c in ET.parse(f).getroot().iter("testcase"):
        if not any(c.find(k) is not None for k in ("failure", "error", "skipped")):
            print(m + "::" + c.get("name"))
PY
if [ -n "${SUITE_EXPECT:-}" ]; then
  /usr/bin/python3 - "$SUITE_EXPECT" "$logs/passed.txt" $modules <<'PY' || exit 1
import sys
expect_file, passed_file, modules = sys.argv[1], sys.argv[2], set(sys.argv[3:])
expected = [l.strip() for l in open(expect_file) if l.strip() and not l.startswith("#")]
passed = set(l.strip() for l in open(passed_file))
missing = [t for t in expected if t.split("::")[0] in modules and t not in passed]
extra = sorted(passed - set(expected))
for t in extra:
    print("suite: passes, and is not in " + expect_file + " yet: " + t)
for t in missing:
    print("suite: FAILED, expected to pass: " + t)
checked = len([t for t in expected if t.split("::")[0] in modules])
print("suite: %d of %d expected passes held" % (checked - len(missing), checked))
sys.exit(1 if missing else 0)
PY
fi
