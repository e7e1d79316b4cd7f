#!/bin/sh
# api/build-docs.sh OUTDIR: assembles the API reference folder nginx serves
# at /api/docs/ (and /api/v1/schema/ from OUTDIR/openapi.json): this
# folder's index.html, init.js and docs.css, Swagger UI's bundle and
# stylesheet from the pinned swagger-ui-dist (npm ci when missing), and
# openapi.json.  Without node or npm, or offline, the page says where
# the description is instead; the schema is served either way.  Exits
# non-zero only when OUTDIR cannot be written.
set -u
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: api/build-docs.sh OUTDIR}
dist=$here/node_modules/swagger-ui-dist

# --ignore-scripts: no install scripts run (swagger-ui-dist's analytics
# dependency has one).  A lock newer than the install means npm ci again.
need_install() {
	[ ! -f "$dist/swagger-ui-bundle.js" ] ||
	    [ "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]
}
if need_install; then
	if command -v npm >/dev/null 2>&1; then
		(cd "$here" && npm ci --ignore-scripts --no-audit --no-fund) >&2 ||
		    echo "api/build-docs.sh: npm ci failed; the reference page will be a stub" >&2
	else
		echo "api/build-docs.sh: npm is missing; the reference page will be a stub" >&2
	fi
fi

mkdir -p "$out" || exit 1
rm -f "$out"/*
cp "$here/openapi.json" "$out/openapi.json" || exit 1
if [ -f "$dist/swagger-ui-bundle.js" ] && [ -f "$dist/swagger-ui.css" ]; then
	cp "$here/docs/index.html" "$here/docs/init.js" "$here/docs/docs.css" \
	    "$dist/swagger-ui-bundle.js" "$dist/swagger-ui.css" "$out/" || exit 1
else
	cat >"$out/index.html" <<'HTML'
<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>bulkclaims API reference</title></head>
<body><p>The reference page's renderer is not installed (api/build-docs.sh needs npm).
The API description is at <a href="/api/v1/schema/">/api/v1/schema/</a> (OpenAPI 3.1, JSON).</p></body></html>
HTML
fi
chmod -R a+rX "$out"
