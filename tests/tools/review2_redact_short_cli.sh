#!/bin/sh
# review2 reproducer (CLI): a 1-character password makes every error message that contains that
# character overflow its heap buffer in imgsync__text_redact. Build the CLI with ASan first:
#   make -j1 SANITIZE="-fsanitize=address,undefined -fno-omit-frame-pointer" OPTFLAGS="-O1 -g" build/imgsync
# then: sh tests/tools/review2_redact_short_cli.sh   (expect an ASan heap-buffer-overflow report)
dir=$(mktemp -d)
cat > "$dir/c.json" <<'JSON'
{"registries":[{"name":"r","type":"oci","endpoint":"http://127.0.0.1:1","username":"u","password_env":"REG_PW"}],
 "settings":{"max_retries":"0","connect_timeout_ms":"500"}}
JSON
REG_PW=1 "${IMGSYNC:-build/imgsync}" sync --config "$dir/c.json"
rc=$?
rm -rf "$dir"
exit $rc
