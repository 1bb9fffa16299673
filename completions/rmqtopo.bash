# bash completion for rmqtopo                                   -*- shell-script -*-
#
# Installed as share/bash-completion/completions/rmqtopo (bash-completion loads it on the
# first Tab after "rmqtopo"); or source it from ~/.bashrc.
#
# The candidates come from the binary itself: `rmqtopo __complete WORD...` answers from its
# own command table (commands, dlq subcommands, each command's options, option values) and
# reads queue, exchange and vhost names from a topology file: the one named on the command
# line, else the file in $RMQTOPO_TOPOLOGY (for the dlq commands, which take a queue, not a
# file). Its first line says whether file names fit too.

_rmqtopo() {
    local cur words cword
    if declare -F _get_comp_words_by_ref >/dev/null 2>&1; then
        # bash-completion: "--vhost=x" and "a:b" stay one word
        _get_comp_words_by_ref -n =: cur words cword
    else
        words=("${COMP_WORDS[@]}")
        cword=$COMP_CWORD
        cur=${COMP_WORDS[COMP_CWORD]}
    fi

    local bin=${words[0]}
    [[ $bin == "~/"* ]] && bin=$HOME/${bin#"~/"}
    type -P "$bin" >/dev/null 2>&1 || bin=rmqtopo
    type -P "$bin" >/dev/null 2>&1 || return 0

    local directive line
    local -a lines files
    mapfile -t lines < <("$bin" __complete "${words[@]:1:cword-1}" "$cur" 2>/dev/null)
    [[ ${#lines[@]} -gt 0 ]] || return 0
    directive=${lines[0]}

    # after "--name=", the shell completes the value alone
    local match=$cur
    [[ $cur == --*=* ]] && match=${cur#*=}

    COMPREPLY=()
    for line in "${lines[@]:1}"; do
        COMPREPLY+=("${line%%$'\t'*}")
    done
    if [[ $directive == files ]]; then
        compopt -o filenames 2>/dev/null
        mapfile -t files < <(compgen -f -- "$match")
        COMPREPLY+=("${files[@]}")
    fi
    # a queue name with a colon: bash-completion's fix for COMP_WORDBREAKS
    if declare -F __ltrim_colon_completions >/dev/null 2>&1; then
        __ltrim_colon_completions "$cur"
    fi
    return 0
}
complete -F _rmqtopo rmqtopo
