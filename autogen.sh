#!/bin/sh
# Generates configure and Makefile.in; the generated files are never committed.
set -e
cd "$(dirname "$0")"
autoreconf --install --force --warnings=all
