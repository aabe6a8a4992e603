#!/bin/sh
# The layering rules of DESIGN.md, checked on the includes: the engine knows no core, inventory
# or provider; the core reads no engine internals; providers use only the SPI, util and their
# own shared files; util depends on nothing above it.
set -eu
fail=0
violation() {
    echo "layers-check: $1" >&2
    fail=1
}
includes() { grep -n '^#include "' "$@" 2>/dev/null || true; }

bad=$(includes src/engine/*.c src/engine/*.h | grep -E '"(core|inventory|providers|cli)/' || true)
[ -z "$bad" ] || violation "src/engine includes a header above it: $bad"
bad=$(includes src/core/*.c src/core/*.h | grep -E '"engine/(internal|transport)\.h"' || true)
[ -z "$bad" ] || violation "src/core reads engine internals: $bad"
bad=$(includes src/providers/*.c src/providers/*.h | grep -vE '"(imgsync/sys/provider\.h|util/[a-z_]+\.h|providers/[a-z_]+\.h|[a-z_]+\.h)"' || true)
[ -z "$bad" ] || violation "src/providers includes more than the SPI, util and providers: $bad"
bad=$(includes src/providers/*.c src/providers/*.h | grep -E '"(core|engine|inventory)/' || true)
[ -z "$bad" ] || violation "src/providers reaches into the library: $bad"
bad=$(includes src/inventory/*.c src/inventory/*.h | grep -E '"(core|engine|providers|cli)/' || true)
[ -z "$bad" ] || violation "src/inventory depends on a layer above it (the store evaluates no request): $bad"
bad=$(includes src/util/*.c src/util/*.h | grep -E '"(core|engine|inventory|providers|cli)/' || true)
[ -z "$bad" ] || violation "src/util depends on a layer above it: $bad"
bad=$(includes src/cli/*.c src/cli/*.h | grep -vE '"cli/[a-z_]+\.h"' || true)
[ -z "$bad" ] || violation "src/cli (the imgsync program) uses more than the public API: $bad"
# every read of time goes through a clock: only util/clock.c calls the system clocks
bad=$(grep -n 'imgsync__system_\(now\|mono\)_ms\|clock_gettime' src/engine/*.c src/core/*.c src/inventory/*.c src/providers/*.c 2>/dev/null || true)
[ -z "$bad" ] || violation "time read around the context's clock: $bad"
# a request's state changes only in the engine's transition function (request.c)
bad=$(grep -n -- '->state *=[^=]' src/engine/*.c 2>/dev/null | grep -v '^src/engine/request\.c:[0-9]*: *r->state = state;$' || true)
[ -z "$bad" ] || violation "a request state set outside imgsync__req_set_state: $bad"

if [ "$fail" -eq 0 ]; then
    echo "layers-check: engine, core, providers, util and cli keep their layers"
    echo "1 passed, 0 failed"
else
    echo "0 passed, 1 failed"
fi
[ -z "${TEST_SUMMARY:-}" ] || echo "$((1 - fail)) $fail" >>"$TEST_SUMMARY"
exit "$fail"
