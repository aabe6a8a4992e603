#!/bin/sh
# Run each test program given; print a summary line; exit non-zero when any failed.
# $VALGRIND, when set, prefixes every program (e.g. "valgrind --leak-check=full --error-exitcode=1").
passed=0
failed=0
for t in "$@"; do
    if ${VALGRIND:-} "$t"; then
        passed=$((passed + 1))
    else
        echo "FAILED: $t" >&2
        failed=$((failed + 1))
    fi
done
echo "$passed passed, $failed failed"
# $TEST_SUMMARY, when set, collects the counts of every batch for the final total
[ -z "${TEST_SUMMARY:-}" ] || echo "$passed $failed" >>"$TEST_SUMMARY"
[ "$failed" -eq 0 ]
