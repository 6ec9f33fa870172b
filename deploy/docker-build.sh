#!/bin/sh
# The build steps of the Dockerfile, as one script: the image runs it in its build stage, and
# test/cli/deploy.spec.ts runs it in a fresh copy of the repository, so what the image builds
# is tested without a container engine.
#
# Leaves: dist/ (the compiled package), examples/browser/dist/ (the chat page's bundle),
# node_modules/ with runtime dependencies only, and docker-data/, the empty data directory the
# image gives the node's user.
set -eu
# dependencies' install scripts are not needed (LevelDB ships prebuilt bindings)
npm ci --ignore-scripts --no-audit --no-fund
npm run build
npm run build:browser
npm prune --omit=dev --ignore-scripts --no-audit --no-fund
mkdir -p docker-data
