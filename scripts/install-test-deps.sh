#!/usr/bin/env bash
# Install everything the test suite needs on a fresh Debian 12 machine; safe to run again.
#
# The real-component tests (tests/test_real_idp.py, tests/test_real_browser.py, tests/test_e2e_scenarios.py)
# need two real IdPs (SimpleSAMLphp under php -S, pysaml2's IdP) and a real browser (Debian's Chromium, driven by
# Playwright). Chromium comes from apt, never from `playwright install`, which downloads a browser build.
set -euo pipefail
cd "$(dirname "$0")/.."

# php-xml is required by SimpleSAMLphp and not pulled in by it. xmlsec1 (the command) signs part of the interop
# corpus (tests/interop.py) with an implementation other than the one under test, and is the signer pysaml2's IdP
# calls; libfaketime runs an IdP with a wrong clock (the expired-assertion scenario).
APT_PACKAGES=(simplesamlphp php-xml php-mbstring php-cli chromium xmlsec1 libfaketime)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$pkg")
    fi
done

if [ "${#missing[@]}" -eq 0 ]; then
    echo "install-test-deps: apt packages already installed: ${APT_PACKAGES[*]}"
elif [ "$(id -u)" -ne 0 ]; then
    echo "install-test-deps: warning: not root, skipping apt-get; missing: ${missing[*]}" >&2
    echo "install-test-deps: warning: the SimpleSAMLphp/Chromium tests will be skipped (and fail when CI is set)" >&2
else
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    apt-get install -y --no-install-recommends "${APT_PACKAGES[@]}"
fi

python -m pip install --quiet -e '.[test]'
