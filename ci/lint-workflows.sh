#!/usr/bin/env bash
# Checks the GitHub Actions workflows (.github/workflows, not run here) with Debian's yamllint, installed
# with apt-get when missing; .yamllint holds its configuration.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v yamllint >/dev/null; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "ci: installing yamllint (apt-get)"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends yamllint >/dev/null
fi
yamllint --strict .github/workflows/
echo "ci: yamllint: $(ls .github/workflows | tr '\n' ' ')passed"
