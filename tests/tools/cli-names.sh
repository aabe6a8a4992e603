#!/bin/sh
# The commands and options of the imgsync program, read from its sources (src/cli/options.c,
# src/cli/main.c), for the checks of its man page and completions:
#   cli-names.sh commands   "sync", "schedule add", ... one a line
#   cli-names.sh options    "--config", ... one a line (not those only named in comments)
case ${1:-} in
commands)
    sed -n 's/^ *{"\([a-z]*\)", \(NULL\|"\([a-z]*\)"\), CMD_.*/\1 \3/p' src/cli/options.c | sed 's/ $//' ;;
options)
    grep -h '"--[a-z]' src/cli/options.c src/cli/main.c | grep -v '^ *\*' | grep -o '"--[a-z][a-z-]*' |
        tr -d '"' | sort -u ;;
*)
    echo "usage: cli-names.sh commands|options" >&2
    exit 2 ;;
esac
