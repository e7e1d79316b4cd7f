#!/bin/sh
# make check: every repository file or folder that README.md, docs/*.md
# and the other READMEs name exists.  A name counts as a repository path
# when it has a slash and starts with one of the checkout's top-level
# entries (fcgi/..., scripts/run, ../web/README.md), or when it is a
# relative link target ([x](api.md)); link targets resolve from the
# document's folder, other names from the top (or from the document's
# folder when they start with ../).  Names with * must match something;
# names with a placeholder (NN, XXX, N.md, <...>) are not checked.
# Generated places (var/, build*/, what a .gitignore names) are not
# repository paths.
top=$(cd "${srcdir:-.}" && pwd)
cd "$top" || exit 1

docs="README.md docs/*.md payer-sim/README*.md web/README.md tests/*/README.md"
# The checkout's top-level entries, without generated ones.
tops=$(ls -A | grep -vxE 'var|var-test|build.*|autom4te\.cache|\.git|node_modules')

# words FILE: prints "L WORD" per candidate, L = link target or word.
words() {
	# Link targets: ](target) without URLs and anchors.
	grep -oE '\]\([^)# ]+' "$1" | sed 's/^](/L /' |
	    grep -vE '^L (https?|mailto):'
	# Words of path characters with a slash (link targets again too:
	# checked from the top they would be wrong, so drop those).
	sed -E 's/\]\([^)]*\)/]/g' "$1" | tr -cs 'A-Za-z0-9_./*+-' '\n' |
	    grep / | sed -E 's/[.]+$//; s/^/W /'
}

# ignored PATH: true when a .gitignore names it (made by a program).
ignored() {
	local d=${1%/*} b=${1##*/}

	[ "$d" = "$1" ] && d=.
	grep -qsxE "/?($b|$b/)" "$d/.gitignore" ||
	    grep -qsxE "/($1|$1/)" .gitignore
}

bad=
checked=0
for doc in $docs; do
	[ -f "$doc" ] || continue
	dir=$(dirname "$doc")
	for w in $(words "$doc" | tr ' ' ':'); do
		kind=${w%%:*}
		p=${w#*:}
		case $p in
		*NN*|*XXX*|*'<'*|*N.md) continue ;;
		esac
		if [ "$kind" = L ]; then
			path=$dir/$p
		else
			case $p in
			../*) path=$dir/$p ;;
			./*) continue ;;
			/*) continue ;;
			*)
				first=${p%%/*}
				echo "$tops" | grep -qxF -- "$first" || continue
				path=$p
				;;
			esac
		fi
		checked=$((checked + 1))
		# shellcheck disable=SC2086
		set -- $path
		if [ ! -e "$1" ] && ! ignored "$path"; then
			bad="$bad$doc: $p
"
		fi
	done
done

echo "1..2"
if [ "$checked" -gt 50 ]; then
	echo "ok 1 - $checked path names found in the documents"
else
	echo "not ok 1 - only $checked path names found (is the scan broken?)"
fi
if [ -z "$bad" ]; then
	echo "ok 2 - every repository path the documents name exists"
else
	printf '%s' "$bad" | sort -u | sed 's/^/# missing: /'
	echo "not ok 2 - the documents name repository paths that do not exist"
fi
