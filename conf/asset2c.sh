#!/bin/sh
# asset2c.sh FILE SYMBOL MIMETYPE OUT.c
#
# Turns one file into a C source file with the same symbols kodev emits
# for assets: asset_SYMBOL[], asset_len_SYMBOL, asset_mtime_SYMBOL,
# asset_sha256_SYMBOL and an asset_serve_SYMBOL() route handler.
# SYMBOL is the file name with '.', '-' and spaces turned into '_'.
set -eu
in=$1
sym=$2
mime=$3
out=$4

len=$(wc -c < "$in" | tr -d ' ')
mtime=$(stat -c %Y "$in")
sha=$(sha256sum "$in" | cut -d' ' -f1)

{
	printf '/* Generated from %s by conf/asset2c.sh. */\n' "$in"
	printf '#include <sys/types.h>\n\n#include <kore/kore.h>\n'
	printf '#include <kore/http.h>\n\n'
	printf 'int\tasset_serve_%s(struct http_request *);\n\n' "$sym"
	printf 'const u_int8_t asset_%s[] = {\n' "$sym"
	od -An -v -tx1 "$in" | sed -e 's/ *\([0-9a-f][0-9a-f]\)/0x\1,/g'
	printf '0x00\n};\n\n'
	printf 'const u_int32_t asset_len_%s = %s;\n' "$sym" "$len"
	printf 'const time_t asset_mtime_%s = %s;\n' "$sym" "$mtime"
	printf 'const char *asset_sha256_%s = "\\"%s\\"";\n\n' "$sym" "$sha"
	printf 'int\nasset_serve_%s(struct http_request *req)\n{\n' "$sym"
	printf '\thttp_serveable(req, asset_%s, asset_len_%s,\n' "$sym" "$sym"
	printf '\t    asset_sha256_%s, "%s");\n' "$sym" "$mime"
	printf '\treturn (KORE_RESULT_OK);\n}\n'
} > "$out.tmp"
mv "$out.tmp" "$out"
