# bash completion for imgsync(1). Installed as share/bash-completion/completions/imgsync;
# tests/tools/completion-check.sh keeps it in step with src/cli/options.c.

_imgsync_options() { # the options command "$1" accepts (as src/cli/options.c has them)
    local select="--type --registry --repo --namespace --exclude-namespace --repo-glob
                  --exclude-repo --tag --exclude-tag"
    case $1 in
    sync) echo "--db --config $select --max-tags --format --timeout-ms" ;;
    check) echo "--db --config --timeout-ms --format" ;;
    images) echo "--db --config $select --updated-since --format" ;;
    tasks) echo "--db --state --trigger --limit --format" ;;
    task) echo "--db --format" ;;
    changes) echo "--db --task --since --format" ;;
    "schedule add") echo "--db --config --daily --every $select --max-tags" ;;
    "schedule list") echo "--db --format" ;;
    "schedule rm") echo "--db" ;;
    daemon) echo "--db --config" ;;
    ls | inspect | catalog) echo "--json --format --username --password-stdin --plain-http --insecure --timeout-ms" ;;
    esac
}

# the registry names of the --config file given on the command line, if any
_imgsync_registries() {
    local i config=
    for ((i = 1; i < ${#COMP_WORDS[@]} - 1; i++)); do
        [[ ${COMP_WORDS[i]} == --config ]] || continue
        config=${COMP_WORDS[i + 1]}
        # --config=FILE comes as "--config" "=" "FILE"
        [[ $config == = ]] && config=${COMP_WORDS[i + 2]:-}
    done
    config=${config/#\~/$HOME}
    [[ -r $config ]] || return 0
    sed -n 's/.*"name"[[:space:]]*:[[:space:]]*"\([A-Za-z0-9._-]*\)".*/\1/p' -- "$config" 2>/dev/null
}

# COMPREPLY = the words compgen "$@" gives, one each (file names may hold spaces)
_imgsync_reply() {
    mapfile -t COMPREPLY < <(compgen "$@")
}

# the values option $2 of command $1 takes, or the files it names, starting with $3
_imgsync_values() {
    local cmd=$1 opt=$2 cur=$3
    case $opt in
    --config | --db)
        compopt -o filenames 2>/dev/null
        _imgsync_reply -f -- "$cur"
        ;;
    --format)
        if [[ $cmd == sync || $cmd == images || $cmd == changes ]]; then
            _imgsync_reply -W "table json ndjson" -- "$cur"
        else
            _imgsync_reply -W "table json" -- "$cur"
        fi
        ;;
    --type) _imgsync_reply -W "Oci Harbor Jfrog SwrPrivate SwrShared SwrEnterprise" -- "$cur" ;;
    --state) _imgsync_reply -W "queued running succeeded partial failed canceled skipped" -- "$cur" ;;
    --trigger) _imgsync_reply -W "manual scheduled" -- "$cur" ;;
    --registry) _imgsync_reply -W "$(_imgsync_registries)" -- "$cur" ;;
    *) COMPREPLY=() ;; # a number, a glob, a time: nothing to offer
    esac
}

_imgsync() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev='' cmd='' c=1
    ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
    COMPREPLY=()
    # the log options may come before the command
    while ((c < COMP_CWORD)); do
        case ${COMP_WORDS[c]} in -v | -vv | --verbose | --debug) ((c++)) ;; *) break ;; esac
    done
    if ((COMP_CWORD == c)); then
        _imgsync_reply -W "sync check images tasks task changes schedule daemon ls inspect catalog -v -vv --verbose --debug --version --help" -- "$cur"
        return 0
    fi
    cmd=${COMP_WORDS[c]}
    if [[ $cmd == schedule ]]; then
        if ((COMP_CWORD == c + 1)); then
            _imgsync_reply -W "add list rm" -- "$cur"
            return 0
        fi
        cmd="schedule ${COMP_WORDS[c + 1]}"
    fi
    local opts
    opts=$(_imgsync_options "$cmd")
    [[ -n $opts ]] || return 0
    opts="$opts -v -vv --verbose --debug"
    # --option=value: bash splits it into "--option" "=" "value" (COMP_WORDBREAKS has '=')
    if [[ $cur == = ]]; then
        _imgsync_values "$cmd" "$prev" ""
        return 0
    fi
    if [[ $prev == = ]] && ((COMP_CWORD > 2)); then
        _imgsync_values "$cmd" "${COMP_WORDS[COMP_CWORD - 2]}" "$cur"
        return 0
    fi
    if [[ $prev == --* && " $opts " == *" $prev "* ]]; then
        _imgsync_values "$cmd" "$prev" "$cur"
        return 0
    fi
    if [[ $cur == -* ]]; then
        _imgsync_reply -W "$opts --help" -- "$cur"
    elif [[ $cmd == check ]]; then
        _imgsync_reply -W "$(_imgsync_registries)" -- "$cur"
    fi
    return 0
}
complete -F _imgsync imgsync
