#!/bin/sh
# The shell completions of imgsync (completion/imgsync.bash, completion/_imgsync) offer every
# command and option of the program (src/cli/options.c), and complete as a user sees it: bash's
# function is called with COMP_WORDS; zsh (when installed) completes lines typed into an
# interactive zsh on a pseudo-terminal.
set -u
fail=0
err() { echo "completion-check: $*" >&2; fail=1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
config=$(pwd)/examples/config.example.json # registries "prod" and "local"

# every command and option of the program is in both files
names=$( (sh tests/tools/cli-names.sh commands | tr ' ' '\n'; sh tests/tools/cli-names.sh options) | sort -u)
[ "$(echo "$names" | wc -l)" -gt 30 ] || err "found too few commands and options in src/cli"
for f in completion/imgsync.bash completion/_imgsync; do
    for n in $names; do
        grep -q -- "[ '(\"*]$n\\b" "$f" || err "$f does not offer '$n'"
    done
done

# bash: "words|expected COMPREPLY" (the last word is the one being completed)
cat >"$tmp/bash-cases" <<CASES
imgsync |sync check images tasks task changes schedule daemon ls inspect catalog -v -vv --verbose --debug --version --help
imgsync sch|schedule
imgsync -v sch|schedule
imgsync --debug schedule |add list rm
imgsync tasks --deb|--debug
imgsync schedule |add list rm
imgsync schedule add --ev|--every
imgsync sync --exclude-|--exclude-namespace --exclude-repo --exclude-tag
imgsync tasks --state s|succeeded skipped
imgsync tasks --state = p|partial
imgsync changes --format |table json ndjson
imgsync task --format |table json
imgsync images --type Swr|SwrPrivate SwrShared SwrEnterprise
imgsync check --config $config |prod local
imgsync sync --config=$config --registry l|local
imgsync daemon --f|
imgsync daemon --config examples/config.ex|examples/config.example.json
imgsync tasks --limit |
imgsync inspect --pl|--plain-http
imgsync catalog --format |table json
CASES
cat >"$tmp/bash-test" <<'SCRIPT'
. completion/imgsync.bash
status=0
while IFS='|' read -r line expected; do
    read -r -a COMP_WORDS <<<"$line"
    # a trailing space starts a new, empty word
    [[ $line == *' ' ]] && COMP_WORDS+=("")
    # bash splits --opt=value at '=' (COMP_WORDBREAKS)
    words=()
    for w in "${COMP_WORDS[@]}"; do
        if [[ $w == --*=* ]]; then words+=("${w%%=*}" "=" "${w#*=}"); else words+=("$w"); fi
    done
    COMP_WORDS=("${words[@]}")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMPREPLY=()
    _imgsync
    got="${COMPREPLY[*]}"
    if [[ "$got" != "$expected" ]]; then
        echo "completion-check: bash: '$line' gives '$got', expected '$expected'" >&2
        status=1
    fi
done
exit $status
SCRIPT
bash "$tmp/bash-test" <"$tmp/bash-cases" || fail=1
[ "$(bash -c '. completion/imgsync.bash; complete -p imgsync')" = "complete -F _imgsync imgsync" ] ||
    err "bash: the completion is not registered for imgsync"

# zsh: type each line and TAB into an interactive zsh; imgsync there prints its arguments
if command -v zsh >/dev/null; then
    cat >"$tmp/zsh-test" <<'SCRIPT'
zmodload zsh/zpty || exit 1
out=
# read the terminal until its output holds $1 (at most 10 s)
wait_for() {
  local chunk i
  for i in {1..50}; do
    while zpty -r -t z chunk; do out+=$chunk; done
    [[ $out == *$1* ]] && return 0
    sleep 0.2
  done
  return 1
}
zpty z zsh -f -i
zpty -w z "PS1='> '; fpath=($PWD/completion \$fpath); autoload -U compinit; compinit -u -D; imgsync() { print -r -- \"ARGS<\$*>\" }; print READY-\$((40+2))"
wait_for READY-42 || { print "no zsh prompt"; exit 1; }
out=
while IFS='|' read -r line expected; do
  zpty -w -n z "$line"$'\t\r'
  if ! wait_for "ARGS<"; then print -r -- "zsh: '$line' gave nothing"; rc=1; break; fi
  out=${out#*ARGS<}
  got=${out%%>*}
  [[ $got == $expected ]] || { print -r -- "zsh: '$line' gives '$got', expected '$expected'"; rc=1; }
  out=${out#*>}
done
zpty -d z
exit ${rc:-0}
SCRIPT
    cat >"$tmp/zsh-cases" <<CASES
imgsync sched|schedule
imgsync -v sched|-v schedule
imgsync --debug tasks --tr|--debug tasks --trigger
imgsync schedule a|schedule add
imgsync schedule add --ev|schedule add --every
imgsync sync --exclude-n|sync --exclude-namespace
imgsync tasks --state=succ|tasks --state=succeeded
imgsync changes --format=nd|changes --format=ndjson
imgsync check --config $config pr|check --config $config prod
imgsync insp|inspect
imgsync inspect --plain-h|inspect --plain-http
imgsync ls --password-s|ls --password-stdin
CASES
    zsh -f "$tmp/zsh-test" <"$tmp/zsh-cases" >"$tmp/zsh.log" 2>&1 || { sed 's/^/completion-check: /' "$tmp/zsh.log" >&2; fail=1; }
    zsh_done=" and zsh"
else
    echo "completion-check: zsh is not installed: its completion was not tried"
    zsh_done=""
fi
if [ "$fail" -eq 0 ]; then
    echo "completion-check: every command and option offered; bash$zsh_done complete as expected"
    echo "1 passed, 0 failed"
else
    echo "0 passed, 1 failed"
fi
[ -z "${TEST_SUMMARY:-}" ] || echo "$((1 - fail)) $fail" >>"$TEST_SUMMARY"
exit "$fail"
