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
if [ -n "${SUITE_EXPECT:-}" ]; then SUITE_EXPECT=$(realpath "$SUITE_EXPECT") || exit 2; fi   # the script changes folders
src=$(sed -n 's/^llama.source.dir=//p' "$root/native/target/llama/llama-build.properties")
[ -d "$src/tools/server/tests" ] || { echo "no llama.cpp source with tools/server/tests: build first" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
logs=${SUITE_LOGS:-$root/target/server-suite${SUITE_SERVER:+-$SUITE_SERVER}}   # the pytest log and JUnit XML are kept here
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
# serve starts a JVM per test (and per router model): a class-data archive of serve's start-up, written
# here for this jar, halves that start. SUITE_CDS=0: without it
if [ "${SUITE_SERVER:-serve}" = serve ] && [ "${SUITE_CDS:-1}" = 1 ]; then
  /usr/bin/python3 - "${LLAMA_JAVA_JAR:-$root/samples/target/llama-java.jar}" \
      "${LLAMA_MODELS_DIR:-$root/../shared/models}/stories260K.gguf" "$work/serve.jsa" <<'PY' \
    && export SUITE_CDS_ARCHIVE=$work/serve.jsa || echo "no class-data archive: the servers start without it"
import json, subprocess, sys, urllib.request
jar, model, archive = sys.argv[1:]
p = subprocess.Popen(["java", "-XX:ArchiveClassesAtExit=" + archive, "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                      "-jar", jar, "serve", "-m", model, "--port", "0", "-c", "256", "-np", "1"],
                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
try:
    url = p.stdout.readline().split(" on ")[1].split()[0]
    req = urllib.request.Request(url + "/v1/chat/completions", method="POST", headers={"Content-Type": "application/json"},
                                 data=json.dumps({"messages": [{"role": "user", "content": "hi"}], "max_tokens": 4}).encode())
    urllib.request.urlopen(req, timeout=60).read()
finally:
    p.terminate()
    p.wait(60)
import os
sys.exit(0 if os.path.exists(archive) else 1)
PY
fi
export LLAMA_MODELS_DIR=${LLAMA_MODELS_DIR:-$root/../shared/models}
run=""
for m in $modules; do
  case " $skip " in *" $m "*) ;; *) run="$run $m" ;; esac
done
# one pytest session for all the modules: the suite's session fixture starts every preset's server once
# (ServerPreset.load_all), which per module would be 8 server starts each
files=$(for m in $run; do printf 'unit/%s.py ' "$m"; done)
(cd .. && timeout "${SUITE_TIMEOUT:-3600}" /usr/bin/python3 -m pytest $files -m "not slow" -q -p no:cacheprovider \
    --junitxml="$logs/suite.xml" > "$logs/suite.log" 2>&1)
echo "pytest exited $? (log: $logs/suite.log)"
rm -f "$logs"/test_*.xml "$logs"/test_*.log   # per-module files of earlier versions of this script
# each module's passes, failures and errors, and the passes as MODULE::TEST in passed.txt
/usr/bin/python3 - "$logs" "$skip" $modules <<'PY'
import os, sys, xml.etree.ElementTree as ET
logs, skip, modules = sys.argv[1], sys.argv[2].split(), sys.argv[3:]
counts = {m: [0, 0, 0] for m in modules}
passed = []
try:
    cases = list(ET.parse(os.path.join(logs, "suite.xml")).getroot().iter("testcase"))
except Exception:
    cases = []
for c in cases:
    cls = c.get("classname") or ""
    m = cls.split(".")[-1] if cls else c.get("name", "").split(".")[-1]   # collection errors name the module
    if m not in counts:
        continue
    if c.find("skipped") is not None:
        continue
    if c.find("failure") is not None:
        counts[m][1] += 1
    elif c.find("error") is not None:
        counts[m][2] += 1
    else:
        counts[m][0] += 1
        passed.append(m + "::" + c.get("name"))
print("%-28s %6s %6s %6s" % ("module", "passed", "failed", "errors"))
total_p = total_n = 0
for m in modules:
    if m in skip:
        print("%-28s %s" % (m, "left out (built-in tools, MCP)"))
        continue
    p, f, e = counts[m]
    if p + f + e == 0:
        e = 1   # nothing ran: the session died or the module did not load
    print("%-28s %6d %6d %6d" % (m, p, f, e))
    total_p += p
    total_n += p + f + e
print("passed %d of %d run" % (total_p, total_n))
with open(os.path.join(logs, "passed.txt"), "w") as out:
    out.writelines(t + "\n" for t in passed)
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
